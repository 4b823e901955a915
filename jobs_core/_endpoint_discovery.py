"""Finding the Direct Access endpoint: asked of the application over SQL (docs/connecting.md).

``CALL <app>.app.service_endpoint(TRUE)`` answers one row. The host is in ``SERVICE_ENDPOINT``,
or in ``PRIVATELINK_INGRESS_URL`` when the account uses private connectivity (taken first when it
is set); a host without a scheme gets ``https://``.
"""

from __future__ import annotations

import re

import attrs

from ._config import ClientConfig
from ._effects import Now, Protocol, SqlFailure, SqlQuery, SqlRows
from ._errors import JobServerError, JobTimeoutError
from ._retry import Deadline, send_sql

OPERATION = "service_endpoint"
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_COLUMNS = ("PRIVATELINK_INGRESS_URL", "SERVICE_ENDPOINT")


def quote_identifier(name: str) -> str:
    """Return `name` as a SQL identifier: as it is when plain, else double-quoted."""
    if _PLAIN_IDENTIFIER.fullmatch(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def endpoint_query(app: str) -> SqlQuery:
    """Return the statement that asks application `app` for its Direct Access endpoint."""
    return SqlQuery(f"CALL {quote_identifier(app)}.app.service_endpoint(TRUE)", (), OPERATION)


def parse_endpoint(rows: SqlRows) -> str:
    """Return the base URL the answer to `endpoint_query` names.

    Raises:
        JobServerError: no row, or no usable endpoint in it.
    """
    if not rows.rows:
        raise JobServerError("service_endpoint answered no row: the application gave no endpoint")
    row = dict(zip(rows.columns, rows.rows[0], strict=False))
    named = [row.get(column) for column in _COLUMNS]
    # A single unnamed value is the endpoint itself (the procedure's own column name).
    candidates = [*named, rows.rows[0][0] if len(rows.rows[0]) == 1 else None]
    host = next((c.strip() for c in candidates if isinstance(c, str) and c.strip()), None)
    if host is None:
        raise JobServerError(
            f"service_endpoint answered no endpoint (columns: {', '.join(rows.columns)})"
        )
    return (host if "://" in host else f"https://{host}").rstrip("/")


def discover_endpoint(
    config: ClientConfig, app: str, *, deadline: float | None = None, persist: bool = False
) -> Protocol[str]:
    """Return the protocol that asks `app` for its Direct Access base URL.

    `deadline` (on the `Now` clock) is that of the call that needs the endpoint: the statement
    carries it, so the driver ends it by then. When `persist` (the call polls, see
    `jobs_core._retry.Deadline`) a lost connection or session is retried with `config`'s backoff
    until the deadline; otherwise the statement is asked once.

    Raises:
        JobServerError: the statement failed, or its answer names no endpoint.
        JobTimeoutError: the `deadline` passed before the answer came (naming the last failure,
            when the failures were retried).
    """
    query = attrs.evolve(endpoint_query(app), deadline=deadline)
    try:
        if deadline is not None and persist:
            until = Deadline(deadline, persist=True)
            rows = yield from send_sql(config, query, deadline=until)
        else:
            rows = yield query
    except SqlFailure as exc:
        late = deadline is not None and exc.connection_lost and (yield Now()) >= deadline
        cls = JobTimeoutError if late else JobServerError
        raise cls(f"finding the Direct Access endpoint of {app} failed: {exc.message}") from exc
    return parse_endpoint(rows)
