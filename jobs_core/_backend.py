"""What each call asks of the backend: the dialect the routing rules pick, chosen once per call.

Both dialects (`HttpDialect`, `SqlDialect`) offer the `Dialect` interface. Every function here
picks one and returns the protocol its method builds eagerly, so a request that cannot be built
(a bad payload, an unknown stream) fails before the first effect.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar
from typing import Protocol as Interface

from ._config import Backend, ClientConfig
from ._effects import Protocol
from ._filters import ListFilters
from ._http_dialect import HttpDialect
from ._models import Job, JobEvents, JobRecord, ReasonerType
from ._retry import Deadline
from ._sql_dialect import SqlDialect

T = TypeVar("T")


class Dialect(Interface):
    """The calls one backend offers, each returning the protocol that performs it."""

    applies_filters: ClassVar[bool]
    """True when `list_records` filters, sorts and slices itself; False when it returns every
    record and the caller does."""

    def get(self, kind: ReasonerType, job_id: str) -> Protocol[JobRecord | None]: ...

    def get_job(self, kind: ReasonerType, job_id: str) -> Protocol[Job | None]: ...

    def list_records(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        *,
        limit: int | None,
        offset: int,
    ) -> Protocol[list[JobRecord]]: ...

    def list_jobs(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        *,
        limit: int | None,
        offset: int,
    ) -> Protocol[list[Job]]: ...

    def events(
        self, kind: ReasonerType, job_id: str, token: str, stream: str
    ) -> Protocol[JobEvents]: ...

    def create(
        self,
        kind: ReasonerType,
        name: str,
        payload: dict[str, Any],
        timeout_mins: int | None,
        *,
        abort_detached: bool,
    ) -> Protocol[str]: ...

    def cancel(self, kind: ReasonerType, job_id: str, *, all_users: bool) -> Protocol[None]: ...

    def artifacts(self, job_id: str) -> Protocol[dict[str, Any]]: ...

    def problems(self, job_id: str) -> Protocol[dict[str, Any]]: ...


def dialect_for(
    config: ClientConfig,
    kind: ReasonerType,
    *,
    all_users_cancel: bool = False,
    deadline: Deadline | None = None,
) -> Dialect:
    """Return the dialect that serves `kind` under `config` (the hybrid routing rules), its
    requests bounded by `deadline`.

    Raises:
        JobCapabilityError: the rules need the SQL backend and it is not configured.
    """
    if config.backend_for(kind, all_users_cancel=all_users_cancel) is Backend.HTTP:
        return HttpDialect(config, deadline)
    return SqlDialect(config, deadline)


def fetch_record(
    config: ClientConfig, kind: ReasonerType, job_id: str, *, deadline: Deadline | None = None
) -> Protocol[JobRecord | None]:
    """Return the protocol that reads one job or transaction, None when it does not exist.

    A `deadline` bounds the read and its retries (see `send_http`).
    """
    return dialect_for(config, kind, deadline=deadline).get(kind, job_id)


def fetch_job(
    config: ClientConfig, kind: ReasonerType, job_id: str, *, deadline: Deadline | None = None
) -> Protocol[Job | None]:
    """Return the protocol that reads one job or transaction as a `Job`, None when it does not
    exist: `fetch_record` for calls that need nothing but the job, the fast way."""
    return dialect_for(config, kind, deadline=deadline).get_job(kind, job_id)


def fetch_records(
    config: ClientConfig,
    kinds: tuple[ReasonerType, ...],
    filters: ListFilters,
    *,
    limit: int | None,
    offset: int,
    deadline: Deadline | None = None,
) -> Protocol[list[JobRecord]]:
    """Return the protocol that lists records of `kinds`, one type after another.

    Over SQL the filters, `limit` and `offset` are applied by each statement; over HTTP the
    service returns everything and the caller filters, sorts and slices. A record is listed once
    per (type, id): a transaction and jobs of both types may share an id. A `deadline` bounds
    every request and its retries (see `send_http`).
    """
    records: list[JobRecord] = []
    for dialect, group in _by_dialect(config, kinds, deadline):
        records += yield from dialect.list_records(group, filters, limit=limit, offset=offset)
    return _unique(records, lambda record: record.job)


def fetch_jobs(
    config: ClientConfig,
    kinds: tuple[ReasonerType, ...],
    filters: ListFilters,
    *,
    limit: int | None,
    offset: int,
) -> Protocol[list[Job]]:
    """Return the protocol that lists as `fetch_records` does, as `Job`s: for calls that need
    nothing but the jobs, the fast way."""
    jobs: list[Job] = []
    for dialect, group in _by_dialect(config, kinds, None):
        jobs += yield from dialect.list_jobs(group, filters, limit=limit, offset=offset)
    return _unique(jobs, lambda job: job)


def _by_dialect(
    config: ClientConfig, kinds: tuple[ReasonerType, ...], deadline: Deadline | None
) -> Iterator[tuple[Dialect, tuple[ReasonerType, ...]]]:
    """Yield each run of `kinds` that one backend serves, with the dialect that serves it."""
    for _, run in itertools.groupby(kinds, key=config.backend_for):
        group = tuple(run)
        yield dialect_for(config, group[0], deadline=deadline), group


def _unique(items: list[T], job_of: Callable[[T], Job]) -> list[T]:
    """Return `items` without repeats of a (type, id), the first of each kept."""
    # Ids by type rather than (type, id) tuples: no object per item for the garbage collector.
    seen: dict[str, set[str]] = {}
    unique: list[T] = []
    for item in items:
        job = job_of(item)
        ids = seen.setdefault(job.reasoner_type, set())
        if job.id not in ids:
            ids.add(job.id)
            unique.append(item)
    return unique


def fetch_events(
    config: ClientConfig,
    kind: ReasonerType,
    job_id: str,
    token: str,
    stream: str,
    *,
    deadline: Deadline | None = None,
) -> Protocol[JobEvents]:
    """Return the protocol that reads one page of an event stream (bounded by `deadline`).

    Raises (before any effect):
        JobInvalidRequestError: a stream the backend does not have.
    """
    return dialect_for(config, kind, deadline=deadline).events(kind, job_id, token, stream)


def submit(
    config: ClientConfig,
    kind: ReasonerType,
    name: str,
    payload: dict[str, Any],
    timeout_mins: int | None,
    *,
    abort_detached: bool,
    deadline: Deadline | None = None,
) -> Protocol[str]:
    """Return the protocol that creates a job or transaction and returns its id (bounded by
    `deadline`).

    Raises (before any effect):
        JobInvalidRequestError: a payload the backend cannot send.
    """
    dialect = dialect_for(config, kind, deadline=deadline)
    return dialect.create(kind, name, payload, timeout_mins, abort_detached=abort_detached)


def send_cancel(
    config: ClientConfig, kind: ReasonerType, job_id: str, *, all_users: bool
) -> Protocol[None]:
    """Return the protocol that cancels a job or transaction."""
    dialect = dialect_for(config, kind, all_users_cancel=all_users)
    return dialect.cancel(kind, job_id, all_users=all_users)


def fetch_artifacts(
    config: ClientConfig, job_id: str, *, deadline: Deadline | None = None
) -> Protocol[dict[str, Any]]:
    """Return the protocol that reads a transaction's artifacts (bounded by `deadline`)."""
    return dialect_for(config, ReasonerType.LOGIC, deadline=deadline).artifacts(job_id)


def fetch_problems(
    config: ClientConfig, job_id: str, *, deadline: Deadline | None = None
) -> Protocol[dict[str, Any]]:
    """Return the protocol that reads a transaction's problems (bounded by `deadline`)."""
    return dialect_for(config, ReasonerType.LOGIC, deadline=deadline).problems(job_id)
