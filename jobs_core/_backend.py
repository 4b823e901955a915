"""What each call asks of the backend, through whichever front door the routing rules pick.

Every function builds its request eagerly, so a request that cannot be built (a bad payload, an
unknown stream) fails before the first effect, and returns the protocol that sends it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from . import _http_dialect as http
from . import _sql_dialect as sql
from ._config import Backend, ClientConfig
from ._effects import HttpRequest, HttpResponse, Protocol, SqlQuery, SqlRows
from ._filters import ListFilters
from ._models import JobEvents, JobRecord, ReasonerType
from ._retry import run_sql, send_http

T = TypeVar("T")


def _over_http(
    config: ClientConfig,
    request: HttpRequest,
    parse: Callable[[HttpResponse], T],
    *,
    op: str,
    creates: bool = False,
    deadline: float | None = None,
) -> Protocol[T]:
    response = yield from send_http(config, request, op=op, creates=creates, deadline=deadline)
    return parse(response)


def _over_sql(
    config: ClientConfig,
    query: SqlQuery,
    parse: Callable[[SqlRows], T],
    *,
    kind: ReasonerType,
    creates: bool = False,
    deadline: float | None = None,
) -> Protocol[T]:
    rows = yield from run_sql(config, query, kind=kind, creates=creates, deadline=deadline)
    return parse(rows)


def fetch_record(
    config: ClientConfig, kind: ReasonerType, job_id: str, *, deadline: float | None = None
) -> Protocol[JobRecord | None]:
    """Return the protocol that reads one job or transaction, None when it does not exist.

    With a `deadline`, retries stop with `JobTimeoutError` once it has passed.
    """
    if config.backend_for(kind) is Backend.HTTP:
        request = http.build_get(kind, job_id)
        parse = functools.partial(http.parse_get, kind)
        return _over_http(config, request, parse, op="get", deadline=deadline)
    query = sql.build_get(config.sql_namespace, kind, job_id)
    parse_rows = functools.partial(sql.parse_get, kind)
    return _over_sql(config, query, parse_rows, kind=kind, deadline=deadline)


def fetch_records(
    config: ClientConfig,
    kinds: tuple[ReasonerType, ...],
    filters: ListFilters,
    *,
    limit: int | None,
    offset: int,
) -> Protocol[list[JobRecord]]:
    """Return the protocol that lists records of `kinds`, one type after another.

    Over SQL the filters, `limit` and `offset` are applied by each statement; over HTTP the
    service returns everything (one answer holds every job type, so it is asked once), and the
    caller filters, sorts and slices.
    """
    answers: dict[HttpRequest, HttpResponse] = {}
    records: list[JobRecord] = []
    seen: set[str] = set()
    for kind in kinds:
        if config.backend_for(kind) is Backend.SQL:
            query = sql.build_list(config.sql_namespace, kind, filters, limit, offset)
            rows = yield from run_sql(config, query, kind=kind)
            records += sql.parse_list(kind, rows)
            continue
        request = http.build_list(kind)
        if request not in answers:
            answers[request] = yield from send_http(config, request, op="list")
        # A job without a type is taken to be of the type asked for; when one answer serves
        # two types it must still be listed only once.
        records += [r for r in http.parse_list(kind, answers[request]) if r.id not in seen]
        seen.update(r.id for r in records)
    return records


def fetch_events(
    config: ClientConfig, kind: ReasonerType, job_id: str, token: str, stream: str
) -> Protocol[JobEvents]:
    """Return the protocol that reads one page of an event stream."""
    if config.backend_for(kind) is Backend.HTTP:
        request = http.build_events(kind, job_id, token, stream)
        return _over_http(config, request, lambda r: http.parse_events(kind, r), op="events")
    query = sql.build_events(config.sql_namespace, kind, job_id, token, stream)
    return _over_sql(config, query, sql.parse_events, kind=kind)


def submit(
    config: ClientConfig,
    kind: ReasonerType,
    name: str,
    payload: dict[str, Any],
    timeout_mins: int | None,
    *,
    abort_detached: bool,
) -> Protocol[str]:
    """Return the protocol that creates a job or transaction and returns its id."""
    if config.backend_for(kind) is Backend.HTTP:
        request = http.build_create(
            kind, name, payload, timeout_mins, abort_detached=abort_detached
        )
        return _over_http(
            config, request, lambda r: http.parse_create(kind, r), op="create", creates=True
        )
    query = sql.build_create(
        config.sql_namespace, kind, name, payload, timeout_mins, abort_detached=abort_detached
    )
    return _over_sql(
        config, query, lambda rows: sql.parse_create(kind, rows), kind=kind, creates=True
    )


def send_cancel(
    config: ClientConfig, kind: ReasonerType, job_id: str, *, all_users: bool
) -> Protocol[None]:
    """Return the protocol that cancels a job or transaction."""
    if config.backend_for(kind, all_users_cancel=all_users) is Backend.HTTP:
        request = http.build_cancel(kind, job_id)
        return _over_http(config, request, lambda r: http.parse_cancel(kind, r), op="cancel")
    query = sql.build_cancel(config.sql_namespace, kind, job_id, all_users=all_users)
    return _over_sql(config, query, lambda rows: None, kind=kind)


def fetch_artifacts(config: ClientConfig, job_id: str) -> Protocol[dict[str, Any]]:
    """Return the protocol that reads a transaction's artifacts."""
    kind = ReasonerType.LOGIC
    if config.backend_for(kind) is Backend.HTTP:
        return _over_http(
            config, http.build_artifacts(job_id), http.parse_artifacts, op="artifacts"
        )
    query = sql.build_artifacts(config.sql_namespace, job_id)
    return _over_sql(config, query, sql.parse_artifacts, kind=kind)


def fetch_problems(config: ClientConfig, job_id: str) -> Protocol[dict[str, Any]]:
    """Return the protocol that reads a transaction's problems."""
    kind = ReasonerType.LOGIC
    if config.backend_for(kind) is Backend.HTTP:
        return _over_http(config, http.build_problems(job_id), http.parse_problems, op="problems")
    query = sql.build_problems(config.sql_namespace, job_id)
    return _over_sql(config, query, sql.parse_problems, kind=kind)
