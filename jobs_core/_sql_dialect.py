"""The SQL API dialect: a statement builder and a result parser per call, and `SqlDialect`,
which runs them under the retry policy.

Statements call the application's objects under `namespace` (``{app}.{schema}``, see
`ClientConfig.sql_namespace`) with ``?`` placeholders; every value travels as a bound parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from ._config import ClientConfig
from ._effects import Protocol, SqlQuery, SqlRows, SqlValue
from ._errors import JobInvalidRequestError, JobServerError, excerpt
from ._failures import api_label
from ._filters import ListFilters
from ._json_text import decode_json, encode_compact
from ._models import Job, JobEvents, JobRecord, ReasonerType
from ._records import artifacts_by_filename, job_events, records_from_sql
from ._retry import Deadline, run_sql
from ._validation import WIRE_INT_MAX

T = TypeVar("T")

_TRANSACTION_COLUMNS = (
    "id, database_name, engine_name, state, abort_reason, read_only, created_by, created_on,"
    " finished_at, duration"
)
_JOB_COLUMNS = (
    "ID, REASONER_TYPE, REASONER_NAME, STATE, CREATED_BY, CREATED_ON, FINISHED_AT, DURATION,"
    " PAYLOAD, TIMEOUT_MS, ABORT_REASON"
)
_ACTIVE = "STATE in ('CREATED','PENDING','RUNNING')"
_DATABASE_KEYS = ("dbname", "database", "database_name")
_CODE_KEYS = ("query", "raw_code", "code")


def _json(name: str, value: object) -> str:
    try:
        return encode_compact(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise JobInvalidRequestError(f"{name} must be JSON-serialisable: {exc}") from exc


def build_get(namespace: str, kind: ReasonerType, job_id: str) -> SqlQuery:
    """Return the statement that reads one job (GET_JOB) or transaction (one row at most)."""
    if kind.is_logic:
        text = f"SELECT {_TRANSACTION_COLUMNS} FROM {namespace}.transactions WHERE id = ? LIMIT 1"
        return SqlQuery(text, (job_id,), "get")
    return SqlQuery(f"call {namespace}.GET_JOB(?, ?)", (kind.discriminator, job_id), "get")


def parse_get(kind: ReasonerType, rows: SqlRows) -> JobRecord | None:
    """Return the record in the first row, or None when there are no rows.

    Raises:
        JobServerError: the row is unusable.
    """
    if not rows.rows:
        return None
    return records_from_sql(kind, SqlRows(rows.columns, rows.rows[:1]))[0]


def build_create(
    namespace: str,
    kind: ReasonerType,
    name: str,
    payload: dict[str, Any],
    timeout_mins: int | None,
    *,
    abort_detached: bool,
) -> SqlQuery:
    """Return the statement that starts a job (EXEC_JOB_ASYNC) or transaction (exec_async_v2).

    A transaction's arguments come from the payload: the database (`dbname`, `database` or
    `database_name`) and code (`query`, `raw_code` or `code`) are required; `readonly` defaults to
    true, `nowait_durable` to true (return as soon as the transaction is accepted, which is what an
    asynchronous create means), `language` to ``rel``, the inputs (`v1_inputs` or `inputs`) and
    `headers` to ``{}``; a `timeout_mins` in the payload wins over the argument, as over HTTP.
    `abort_detached` means nothing to jobs.

    Raises:
        JobInvalidRequestError: a transaction payload lacks a database or code, has a value of the
            wrong type, or holds something JSON cannot represent.
    """
    if not kind.is_logic:
        params: tuple[SqlValue, ...] = (kind.discriminator, name, _json("payload", payload))
        if timeout_mins is None:
            return SqlQuery(f"call {namespace}.EXEC_JOB_ASYNC(?, ?, ?)", params, "create")
        text = f"call {namespace}.EXEC_JOB_ASYNC(?, ?, ?, null, ?)"
        return SqlQuery(text, (*params, timeout_mins), "create")
    timeout = payload.get("timeout_mins", timeout_mins)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        raise JobInvalidRequestError(
            f"payload.timeout_mins must be an int, not {type(timeout).__name__}"
        )
    if timeout is not None and not -WIRE_INT_MAX <= timeout <= WIRE_INT_MAX:
        raise JobInvalidRequestError("payload.timeout_mins must fit a signed 64-bit int")
    inputs = payload.get("v1_inputs", payload.get("inputs"))
    head: tuple[SqlValue, ...] = (
        _payload_text(payload, _DATABASE_KEYS),
        name,
        _payload_text(payload, _CODE_KEYS),
        _json("payload inputs", {} if inputs is None else inputs),
        _payload_flag(payload, "readonly", default=True),
        _payload_flag(payload, "nowait_durable", default=True),
        _payload_string(payload, "language", default="rel"),
    )
    tail: tuple[SqlValue, ...] = (
        _json("payload.headers", payload.get("headers") or {}),
        abort_detached,
    )
    if timeout is None:
        text = f"call {namespace}.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, PARSE_JSON(?), ?)"
        return SqlQuery(text, (*head, *tail), "create")
    text = f"call {namespace}.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, ?, PARSE_JSON(?), ?)"
    return SqlQuery(text, (*head, timeout, *tail), "create")


def _payload_text(payload: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    raise JobInvalidRequestError(
        f"A Logic payload needs a non-empty string under one of {', '.join(keys)}"
    )


def _payload_flag(payload: dict[str, Any], key: str, *, default: bool) -> bool:
    value = payload.get(key, default)
    if not isinstance(value, bool):
        raise JobInvalidRequestError(f"payload.{key} must be a bool, not {type(value).__name__}")
    return value


def _payload_string(payload: dict[str, Any], key: str, *, default: str) -> str:
    value = payload.get(key, default)
    if not isinstance(value, str):
        raise JobInvalidRequestError(f"payload.{key} must be a string, not {type(value).__name__}")
    return value


def parse_create(kind: ReasonerType, rows: SqlRows) -> str:
    """Return the new id: column ID, else JOB_ID (jobs) or TXN_ID (transactions), of the first row.

    Raises:
        JobServerError: no row, or no such column with a usable value.
    """
    columns = [str(column).upper() for column in rows.columns]
    row = dict(zip(columns, rows.rows[0], strict=False)) if rows.rows else {}
    for column in ("ID", "TXN_ID") if kind.is_logic else ("ID", "JOB_ID"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    raise JobServerError(
        f"{api_label(kind)} create returned no id: columns {excerpt(rows.columns)},"
        f" rows {excerpt(rows.rows)}"
    )


def build_list(
    namespace: str,
    kind: ReasonerType,
    filters: ListFilters,
    limit: int | None,
    offset: int,
) -> SqlQuery:
    """Return the statement that lists records of `kind` matching `filters`, newest first.

    `limit` and `offset` are bound parameters. An `offset` without a `limit` binds the limit as
    NULL (``LIMIT ? OFFSET ?`` with None), which Snowflake reads as "no limit"; an `offset` of 0
    adds no OFFSET.
    """
    if kind.is_logic:
        text = f"SELECT {_TRANSACTION_COLUMNS} FROM {namespace}.transactions"
        name_column, order = "engine_name", "created_on"
        conditions: list[str] = []
        params: list[SqlValue] = []
    else:
        text = f"SELECT {_JOB_COLUMNS} FROM {namespace}.JOBS"
        name_column, order = "REASONER_NAME", "CREATED_ON"
        conditions = ["UPPER(TRIM(REASONER_TYPE)) IN (?, ?)"]
        params = list(kind.spellings)
    if filters.job_id is not None:
        conditions.append("ID = ?")
        params.append(filters.job_id)
    if filters.state is not None:
        conditions.append("STATE = ?")
        params.append(filters.state)
    elif filters.only_active:
        conditions.append(_ACTIVE)
    if filters.name is not None:
        conditions.append(f"LOWER({name_column}) = ?")
        params.append(filters.name)
    if filters.created_by is not None:
        conditions.append("LOWER(CREATED_BY) = ?")
        params.append(filters.created_by)
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    text += f" ORDER BY {order} DESC"
    if limit is not None or offset:
        text += " LIMIT ?"
        params.append(limit)
    if offset:
        text += " OFFSET ?"
        params.append(offset)
    return SqlQuery(text, tuple(params), "list")


def parse_list(kind: ReasonerType, rows: SqlRows) -> list[JobRecord]:
    """Return the records of the rows, in the statement's order.

    Raises:
        JobServerError: a row is unusable.
    """
    return records_from_sql(kind, rows)


def build_events(
    namespace: str, kind: ReasonerType, job_id: str, token: str, stream: str
) -> SqlQuery:
    """Return the statement that reads one page of the `progress` stream from `token` on.

    Transactions send the initial token ``"0"`` as empty.

    Raises:
        JobInvalidRequestError: `stream` is not ``progress``, the only stream of the SQL API.
    """
    if stream != "progress":
        raise JobInvalidRequestError(
            f"The SQL API only has the 'progress' event stream, not {excerpt(stream)}"
        )
    if kind.is_logic:
        text = f"select {namespace}.get_own_transaction_events(?, ?)"
        return SqlQuery(text, (job_id, "" if token == "0" else token), "events")
    text = f"select {namespace}.GET_JOB_EVENTS(?, ?, ?)"
    return SqlQuery(text, (kind.discriminator, job_id, token), "events")


def parse_events(rows: SqlRows) -> JobEvents:
    """Return the page held by the single cell of the first row (JSON text or an object).

    A NULL cell is an empty page.

    Raises:
        JobServerError: no rows, or a cell that is not an events object.
    """
    if not rows.rows or not rows.rows[0]:
        raise JobServerError("The events call returned no rows")
    value: Any = rows.rows[0][0]
    if value is None:
        return JobEvents([], None)
    return job_events(_decoded(value))


def _decoded(value: Any) -> Any:
    """Return JSON text of an object or a list as what it encodes, anything else as is."""
    if not isinstance(value, str):
        return value
    try:
        decoded = decode_json(value)
    except (ValueError, RecursionError):
        return value
    return decoded if isinstance(decoded, dict | list) else value


def build_cancel(namespace: str, kind: ReasonerType, job_id: str, *, all_users: bool) -> SqlQuery:
    """Return the statement that cancels a job, or a transaction (the caller's own or anyone's).

    `all_users` is for transactions only; `jobs_core.cancel` refuses it for a job before this.
    """
    if kind.is_logic:
        procedure = "CANCEL_TRANSACTION" if all_users else "CANCEL_OWN_TRANSACTION"
        return SqlQuery(f"call {namespace}.{procedure}(?)", (job_id,), "cancel")
    return SqlQuery(f"call {namespace}.CANCEL_JOB(?, ?)", (kind.discriminator, job_id), "cancel")


def build_artifacts(namespace: str, job_id: str) -> SqlQuery:
    """Return the statement that reads a transaction's artifacts."""
    return SqlQuery(f"call {namespace}.get_own_transaction_artifacts(?)", (job_id,), "artifacts")


def parse_artifacts(rows: SqlRows) -> dict[str, Any]:
    """Return the artifacts in the first row, as ``{filename: {FILENAME: ..., KEY: value}}``.

    The first row is read as ``{column: value}``, JSON texts of objects and lists decoded. The
    SQL API answers one column per artifact whose value is the artifact object; since drivers
    may upper-case the column names, each artifact is keyed by its own `FILENAME` (its keys
    upper-cased), exactly what the HTTP API's ``{"results": [...]}`` becomes. A single cell holding
    ``{"results": [...]}`` or a list of artifact objects is read the same way; a single cell
    holding another object is that object; any other row is returned as the row dict. No rows: no
    artifacts.

    Raises:
        JobServerError: a results list whose items are not artifact objects.
    """
    if not rows.rows:
        return {}
    row = {
        str(column): _decoded(cell)
        for column, cell in zip(rows.columns, rows.rows[0], strict=False)
    }
    values = list(row.values())
    if values and all(_is_artifact(value) for value in values):
        return artifacts_by_filename(values)
    if len(values) == 1:
        (value,) = values
        if isinstance(value, dict) and isinstance(value.get("results"), list):
            return artifacts_by_filename(value["results"])
        if isinstance(value, list):
            return artifacts_by_filename(value)
        if isinstance(value, dict):
            return value
    return row


def _is_artifact(value: object) -> bool:
    return isinstance(value, dict) and any(
        isinstance(key, str) and key.upper() == "FILENAME" and isinstance(item, str)
        for key, item in value.items()
    )


def build_problems(namespace: str, job_id: str) -> SqlQuery:
    """Return the statement that reads a transaction's problems, one row each."""
    text = f"select * from table({namespace}.get_own_transaction_problems(?))"
    return SqlQuery(text, (job_id,), "problems")


def parse_problems(rows: SqlRows) -> dict[str, Any]:
    """Return ``{"problems": [{COLUMN: cell}, ...]}``, one dict per row, the JSON text of an
    object or a list (a VARIANT, OBJECT or ARRAY cell, as the connector hands them over) decoded
    to what the HTTP API sends for the same problem, other cells as received."""
    columns = [str(column).upper() for column in rows.columns]
    problems = [
        {column: _decoded(cell) for column, cell in zip(columns, row, strict=False)}
        for row in rows.rows
    ]
    return {"problems": problems}


def _job_of_get(kind: ReasonerType, rows: SqlRows) -> Job | None:
    record = parse_get(kind, rows)
    return None if record is None else record.job


def _jobs_of_list(kind: ReasonerType, rows: SqlRows) -> list[Job]:
    return [record.job for record in parse_list(kind, rows)]


class SqlDialect:
    """The calls over the SQL API of the application `config` names, run under its retry policy,
    each statement bounded by `deadline` (see `run_sql`).

    Each method builds its statement at once (so a statement that cannot be built fails before
    any effect) and returns the protocol that runs it and parses its rows.
    """

    # A plain class, as `HttpDialect`: one is made per call.
    __slots__ = ("config", "deadline", "namespace")
    applies_filters: ClassVar[bool] = True
    """Each statement filters, sorts and slices: its rows are the answer."""

    def __init__(self, config: ClientConfig, deadline: Deadline | None = None) -> None:
        self.config = config
        self.deadline = deadline
        self.namespace = config.sql_namespace

    def _run(
        self,
        query: SqlQuery,
        parse: Callable[[SqlRows], T],
        kind: ReasonerType,
        *,
        creates: bool = False,
    ) -> Protocol[T]:
        rows = yield from run_sql(
            self.config, query, kind=kind, creates=creates, deadline=self.deadline
        )
        return parse(rows)

    def get(self, kind: ReasonerType, job_id: str) -> Protocol[JobRecord | None]:
        """Return the protocol that reads one job or transaction (None: there is none)."""
        query = build_get(self.namespace, kind, job_id)
        return self._run(query, functools.partial(parse_get, kind), kind)

    def get_job(self, kind: ReasonerType, job_id: str) -> Protocol[Job | None]:
        """Return the protocol that reads one job or transaction as a `Job` (None: there is
        none)."""
        query = build_get(self.namespace, kind, job_id)
        return self._run(query, functools.partial(_job_of_get, kind), kind)

    def list_records(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        *,
        limit: int | None,
        offset: int,
    ) -> Protocol[list[JobRecord]]:
        """Return the protocol that lists the records of each of `kinds` matching `filters`,
        newest first per type, `limit` and `offset` applied to each type's statement."""
        return self._list(self._list_queries(kinds, filters, limit, offset), parse_list)

    def list_jobs(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        *,
        limit: int | None,
        offset: int,
    ) -> Protocol[list[Job]]:
        """Return the protocol that lists as `list_records` does, as `Job`s."""
        return self._list(self._list_queries(kinds, filters, limit, offset), _jobs_of_list)

    def _list_queries(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        limit: int | None,
        offset: int,
    ) -> list[tuple[ReasonerType, SqlQuery]]:
        return [(kind, build_list(self.namespace, kind, filters, limit, offset)) for kind in kinds]

    def _list(
        self,
        queries: list[tuple[ReasonerType, SqlQuery]],
        parse: Callable[[ReasonerType, SqlRows], list[T]],
    ) -> Protocol[list[T]]:
        found: list[T] = []
        for kind, query in queries:
            found += yield from self._run(query, functools.partial(parse, kind), kind)
        return found

    def events(
        self, kind: ReasonerType, job_id: str, token: str, stream: str
    ) -> Protocol[JobEvents]:
        """Return the protocol that reads one page of the `progress` stream from `token` on.

        Raises:
            JobInvalidRequestError: `stream` is not ``progress``.
        """
        query = build_events(self.namespace, kind, job_id, token, stream)
        return self._run(query, parse_events, kind)

    def create(
        self,
        kind: ReasonerType,
        name: str,
        payload: dict[str, Any],
        timeout_mins: int | None,
        *,
        abort_detached: bool,
    ) -> Protocol[str]:
        """Return the protocol that starts a job or transaction and returns its id.

        Raises:
            JobInvalidRequestError: the payload is unusable (see `build_create`).
        """
        query = build_create(
            self.namespace, kind, name, payload, timeout_mins, abort_detached=abort_detached
        )
        return self._run(query, functools.partial(parse_create, kind), kind, creates=True)

    def cancel(self, kind: ReasonerType, job_id: str, *, all_users: bool) -> Protocol[None]:
        """Return the protocol that cancels a job or transaction (anyone's, with `all_users`)."""
        query = build_cancel(self.namespace, kind, job_id, all_users=all_users)
        return self._run(query, _ignore, kind)

    def artifacts(self, job_id: str) -> Protocol[dict[str, Any]]:
        """Return the protocol that reads a transaction's artifacts."""
        query = build_artifacts(self.namespace, job_id)
        return self._run(query, parse_artifacts, ReasonerType.LOGIC)

    def problems(self, job_id: str) -> Protocol[dict[str, Any]]:
        """Return the protocol that reads a transaction's problems."""
        query = build_problems(self.namespace, job_id)
        return self._run(query, parse_problems, ReasonerType.LOGIC)


def _ignore(rows: SqlRows) -> None:
    """A cancel's rows say nothing: success is the statement not failing."""
