"""A jobs service on simulated time, answering a protocol's effects over HTTP or SQL.

The clock moves only by `Sleep`. Each job is created at `created_at`, shows in lists from
`listed_from` (a list that lags behind), and ends at `ends_at`. Requests are counted by call
(``"list"``, ``"get"``), with the time and deadline of each, so tests and benches can tell what
waiting cost and how late each end was seen.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import attrs

from jobs_core import (
    Gather,
    HttpRequest,
    HttpResponse,
    ReasonerType,
    SqlQuery,
    SqlRows,
    parse_reasoner_type,
)
from tests.core.replies import JOB_COLUMNS, TXN_COLUMNS, job_json, ok, response, txn_json
from tests.core.simulated_time import SimulatedTime

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
_HTTP_GET = re.compile(r"^/v1alpha1/(?:jobs/(?P<type>[^/]+)|transactions)/(?P<id>[^/]+)$")


@attrs.define
class SimJob:
    kind: ReasonerType
    id: str
    ends_at: float
    created_at: float = 0.0
    listed_from: float | None = None
    """When lists start to show the job (default: from its creation)."""
    outcome: str = "COMPLETED"
    abort_reason: str | None = None

    def exists(self, now: float) -> bool:
        return now >= self.created_at

    def listed(self, now: float) -> bool:
        start = self.created_at if self.listed_from is None else self.listed_from
        return now >= start

    def state(self, now: float) -> str:
        return self.outcome if now >= self.ends_at else "RUNNING"

    def timestamp(self, seconds: float) -> str:
        return (EPOCH + dt.timedelta(seconds=seconds)).isoformat()

    def http(self, now: float) -> dict[str, Any]:
        ended = now >= self.ends_at
        common: dict[str, Any] = {
            "state": self.state(now),
            "created_on": self.timestamp(self.created_at),
            "finished_at": self.timestamp(self.ends_at) if ended else None,
            "abort_reason": self.abort_reason if ended else None,
        }
        if self.kind.is_logic:
            return txn_json(self.id, **common)
        return job_json(self.id, self.kind.discriminator, **common)

    def row(self, now: float) -> tuple[Any, ...]:
        ended = now >= self.ends_at
        finished = EPOCH + dt.timedelta(seconds=self.ends_at) if ended else None
        created = EPOCH + dt.timedelta(seconds=self.created_at)
        reason = self.abort_reason if ended else None
        if self.kind.is_logic:
            values = (self.id, "db", "e1", self.state(now), reason, True, "alice", created)
            return (*values, finished, None)
        return (
            self.id, self.kind.discriminator, "w1", self.state(now), "alice", created,
            finished, None, "{}", None, reason,
        )  # fmt: skip


@attrs.frozen
class Request:
    call: str
    kind: ReasonerType
    at: float
    deadline: float | None
    job_id: str | None = None


class SimulatedService(SimulatedTime):
    """Answers effects for `jobs`; `requests` is every list and get, in order."""

    def __init__(self, jobs: Iterable[SimJob]) -> None:
        super().__init__()
        self.jobs = {(job.kind, job.id): job for job in jobs}
        self.requests: list[Request] = []
        self.seen_ended: dict[tuple[ReasonerType, str], float] = {}
        """When a get first showed each job ended."""

    def count(self, call: str) -> int:
        return sum(1 for r in self.requests if r.call == call)

    def counts(self) -> collections.Counter[str]:
        return collections.Counter(r.call for r in self.requests)

    def gets_of(self, job_id: str) -> int:
        return sum(1 for r in self.requests if r.call == "get" and r.job_id == job_id)

    def answer_request(self, effect: Any) -> Any:
        if isinstance(effect, Gather):
            results: list[Any] = []
            for child in effect.protocols:
                try:
                    results.append(self.run(child))
                except Exception as exc:
                    results.append(exc)
            return results
        if isinstance(effect, HttpRequest):
            return self._http(effect)
        assert isinstance(effect, SqlQuery), effect
        return self._sql(effect)

    def _listed(self, kinds: set[ReasonerType], *, active_only: bool) -> list[SimJob]:
        now = self.clock
        return [
            job
            for job in self.jobs.values()
            if job.kind in kinds
            and job.exists(now)
            and job.listed(now)
            and not (active_only and job.state(now) != "RUNNING")
        ]

    def _read(self, kind: ReasonerType, job_id: str, deadline: float | None) -> SimJob | None:
        self.requests.append(Request("get", kind, self.clock, deadline, job_id))
        job = self.jobs.get((kind, job_id))
        if job is None or not job.exists(self.clock):
            return None
        if job.state(self.clock) != "RUNNING":
            self.seen_ended.setdefault((kind, job_id), self.clock)
        return job

    def _http(self, request: HttpRequest) -> HttpResponse:
        assert request.method == "GET", request
        if request.target in ("/v1alpha1/jobs", "/v1alpha1/transactions"):
            logic = request.target.endswith("transactions")
            kinds = {ReasonerType.LOGIC} if logic else set(ReasonerType) - {ReasonerType.LOGIC}
            kind = next(iter(kinds)) if logic else ReasonerType.PREDICTIVE
            self.requests.append(Request("list", kind, self.clock, request.deadline))
            listed = [job.http(self.clock) for job in self._listed(kinds, active_only=False)]
            return ok({"transactions" if logic else "jobs": listed})
        match = _HTTP_GET.match(request.target)
        assert match is not None, request
        type_ = match["type"]
        kind = ReasonerType.LOGIC if type_ is None else parse_reasoner_type(type_)
        job = self._read(kind, match["id"], request.deadline)
        if job is None:
            return response(404, {"message": "not found"})
        key = "transaction" if kind.is_logic else "job"
        return ok(job.http(self.clock) if kind.is_logic else {key: job.http(self.clock)})

    def _sql(self, query: SqlQuery) -> SqlRows:
        logic = "transactions" in query.text
        columns = TXN_COLUMNS if logic else JOB_COLUMNS
        if query.operation == "list":
            kind = ReasonerType.LOGIC if logic else parse_reasoner_type(query.params[0])
            self.requests.append(Request("list", kind, self.clock, query.deadline))
            active_only = "STATE in" in query.text
            listed = self._listed({kind}, active_only=active_only)
            return SqlRows(columns, tuple(job.row(self.clock) for job in listed))
        assert query.operation == "get", query
        if logic:
            kind, job_id = ReasonerType.LOGIC, str(query.params[0])
        else:
            kind, job_id = parse_reasoner_type(query.params[0]), str(query.params[1])
        job = self._read(kind, job_id, query.deadline)
        return SqlRows(columns, () if job is None else (job.row(self.clock),))
