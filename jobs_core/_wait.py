"""`wait`: poll a job until it ends, on the polling policy, never past the deadline."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from ._backend import fetch_record
from ._config import ClientConfig
from ._effects import Now, Protocol, Sleep
from ._errors import JobClientDisconnectedError, JobInvalidRequestError, JobTimeoutError
from ._expansions import expand
from ._include import Include, parse_include
from ._logs import CORE_LOGGER
from ._models import Job, JobRecord
from ._reasoners import ReasonerType, parse_reasoner_type
from ._validation import require_positive, require_text

ProgressCallback = Callable[[Job | None], None]
"""Called after every poll with the job as last seen (None while it does not exist yet)."""

MAX_POLL_INTERVAL_S = 20.0
DEFAULT_TIMEOUT_S = 900
"""The defaults of every call that waits, written here once (a test checks the clients')."""
DEFAULT_POLL_INTERVAL_S = 0.5


@attrs.frozen
class WaitSpec:
    """The validated arguments of a wait."""

    kind: ReasonerType
    job_id: str
    timeout_s: float
    poll_interval_s: float
    include: Include
    on_poll: ProgressCallback | None = None

    @classmethod
    def of(
        cls,
        kind: ReasonerType,
        job_id: str,
        timeout_s: object,
        poll_interval_s: object,
        include: Mapping[str, object] | None,
        on_poll: ProgressCallback | None,
    ) -> WaitSpec:
        """Return the spec, checking every argument.

        Raises:
            JobInvalidRequestError: `timeout_s <= 0`, `poll_interval_s` outside (0, 20), a bad
                `include`, or an `on_poll` that is not callable.
        """
        if on_poll is not None and not callable(on_poll):
            raise JobInvalidRequestError(f"on_poll must be callable, not {on_poll!r}")
        return cls(
            kind=kind,
            job_id=job_id,
            timeout_s=require_positive("timeout_s", timeout_s),
            poll_interval_s=require_positive(
                "poll_interval_s", poll_interval_s, below=MAX_POLL_INTERVAL_S
            ),
            include=parse_include(include, (kind,)),
            on_poll=on_poll,
        )


def wait(
    config: ClientConfig,
    reasoner_type: str,
    job_id: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    include: Mapping[str, object] | None = None,
    on_poll: ProgressCallback | None = None,
) -> Protocol[Job]:
    """Return the protocol of `JobsClient.wait`: the final job, expanded as asked.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument.
    Raises (from the protocol):
        JobTimeoutError: the deadline passed first; `.job` is the job as last seen.
        JobClientDisconnectedError: a Logic transaction aborted because its client went away.
    """
    kind = parse_reasoner_type(reasoner_type)
    job_id = require_text("job_id", job_id)
    spec = WaitSpec.of(kind, job_id, timeout_s, poll_interval_s, include, on_poll)
    return poll_until_done(config, spec)


def poll_until_done(config: ClientConfig, spec: WaitSpec) -> Protocol[Job]:
    """Poll as `spec` says; see `wait`."""
    started = yield Now()
    deadline = started + spec.timeout_s
    interval = spec.poll_interval_s
    job: Job | None = None
    while True:
        try:
            record = yield from fetch_record(config, spec.kind, spec.job_id, deadline=deadline)
        except JobTimeoutError as exc:
            raise _timed_out(spec, job) from exc
        job = record.to_job() if record is not None else None
        if spec.on_poll is not None:
            spec.on_poll(job)
        if record is not None and job is not None and job.is_terminal:
            _raise_if_client_disconnected(record)
            (final,) = yield from expand(config, [record], spec.include)
            return final
        now = yield Now()
        remaining = deadline - now
        if remaining <= 0:
            raise _timed_out(spec, job)
        delay = min(interval, remaining)
        CORE_LOGGER.debug(
            "wait %s %s: %s; next poll in %.2fs", spec.kind.value, spec.job_id, _seen(job), delay
        )
        yield Sleep(delay)
        interval = config.polling.next_interval(interval, now + interval - started)


def _timed_out(spec: WaitSpec, job: Job | None) -> JobTimeoutError:
    return JobTimeoutError(
        f"{spec.kind.value} {spec.job_id} did not finish within {spec.timeout_s:g}s"
        f" (last seen: {_seen(job)})",
        job=job,
        job_id=spec.job_id,
    )


def _seen(job: Job | None) -> str:
    return f"state={job.state}" if job is not None else "not found yet"


def _raise_if_client_disconnected(record: JobRecord) -> None:
    reason = (record.abort_reason or "").strip().lower()
    if record.reasoner_type.is_logic and reason == "client disconnected":
        raise JobClientDisconnectedError(
            f"Logic transaction {record.id} was aborted: client disconnected"
        )
