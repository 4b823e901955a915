"""The stored procedures and functions of the SQL API, as calls into the engine.

Procedures (`CALL {app}.api.NAME(...)`), their arguments, and what they answer:

- `{app}.app.SERVICE_ENDPOINT(refresh)` (in the `app` schema): one row, column `SERVICE_ENDPOINT`,
  the Direct Access base URL with its `http://` scheme (a client adds `https://` only to a value
  without one). Each call is counted (`emu.service_endpoint_calls`).
- `GET_JOB(type, id)`: the job as JOBS view rows; no row for an unknown id.
- `EXEC_JOB_ASYNC(type, name, payload [, options, timeout_mins])`: one row, column `ID`.
- `EXEC_ASYNC_V2(dbname, engine, query, inputs, readonly, nowait_durable, language,
  [timeout_mins,] headers, abort_detached)`: one row, column `ID`.
- `CANCEL_JOB(type, id)`: one row, columns `ID` and `STATE` (the state after the cancel).
- `CANCEL_OWN_TRANSACTION(id)`: as `CANCEL_JOB`, for the caller's own transactions only.
- `CANCEL_TRANSACTION(id)`: as `CANCEL_JOB`, for any user's transaction.
- `GET_OWN_TRANSACTION_ARTIFACTS(id)`: see "Artifacts" below.

Functions: `select {app}.api.GET_JOB_EVENTS(type, id, token)` and
`select {app}.api.GET_OWN_TRANSACTION_EVENTS(id, token)` answer one row with one `VARIANT` column
(named after the select item, as Snowflake names it) holding the JSON text
`{"events": [...], "continuation_token": "..." | null}`. The table function
`select * from table({app}.api.GET_OWN_TRANSACTION_PROBLEMS(id))` answers one row per problem, one
column per key of the problem objects (upper-cased, in order of first appearance; a key a problem
lacks is NULL), typed by the values (text, number, boolean, or `VARIANT` JSON text for objects,
lists and mixed columns). With no problems it answers no rows, with columns `TYPE` and `MESSAGE`
(a result always has a column).

Artifacts: one row with one column per artifact. The column is named by the artifact's file name
(case kept, as a quoted identifier) and its `VARIANT` value is the JSON text of the artifact with
its keys upper-cased, `FILENAME` included. So "first row as a dict", each value parsed as JSON,
gives `{filename: {"FILENAME": filename, ...}}`: the same dict a client builds from the Direct
Access answer `{"results": [{"filename": ..., ...}]}`; and a client that upper-cases column names
can still key by each value's `FILENAME`. Before the transaction completes there are no artifacts:
no rows (and one column, `FILENAME`, since a result always has a column).

Arguments are checked against the declared types (`jobs_emulator._sql_expressions.coerce`); a wrong
count is Snowflake's "Invalid argument types" error (001044 / 42P13). `options` of `EXEC_JOB_ASYNC`
and `nowait_durable` of `EXEC_ASYNC_V2` are accepted and ignored; scripts ride in the job payload's
`"emulate"` object and in `headers["emulate"]` for transactions.

Engine errors become errors with Snowflake's code for a failing procedure (100357), the message
`<ROUTINE>: <engine message>`, and an SQLSTATE by kind: invalid request 22023, unknown id 02000
(`... job <id> not found` / `... transaction <id> not found`), not ready 55000 (`... engine is not
ready to accept jobs`), another user's transaction 42501 (`... belongs to another user`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from jobs_emulator._endpoint import DirectAccessEndpoint
from jobs_emulator._engine import Engine, parse_job_type
from jobs_emulator._errors import EngineError, InvalidRequest, NotFound, NotReady, PermissionDenied
from jobs_emulator._records import TRANSACTION, JobSnapshot
from jobs_emulator._snowflake_results import (
    BOOLEAN,
    FIXED,
    TEXT,
    VARIANT,
    Column,
    ResultSet,
    SqlError,
    column_type_of,
)
from jobs_emulator._sql_expressions import coerce
from jobs_emulator._sql_views import JOBS, job_row

Arguments = Mapping[str, Any]


@attrs.frozen
class Session:
    """Where a statement runs: the session's login user (`created_by` of what it creates) and the
    account's Direct Access endpoint."""

    user: str
    endpoint: DirectAccessEndpoint


@attrs.frozen
class Routine:
    """A procedure or function: its accepted signatures and what it does with named arguments."""

    name: str
    signatures: tuple[tuple[tuple[str, str], ...], ...]
    """Each signature is a tuple of (argument name, SQL type)."""
    run: Callable[[Engine, Session, Arguments], ResultSet]
    schema: str = "api"
    """The schema of the application the routine lives in (lower-cased)."""

    def call(self, engine: Engine, session: Session, values: Sequence[Any]) -> ResultSet:
        """Return the routine's answer for the positional argument `values`.

        Raise `SqlError` for a wrong argument count or type, or what the engine refused.
        """
        signature = next((s for s in self.signatures if len(s) == len(values)), None)
        if signature is None:
            expected = " or ".join(
                "(" + ", ".join(f"{name.upper()} {_SQL_TYPES[kind]}" for name, kind in s) + ")"
                for s in self.signatures
            )
            raise SqlError(
                f"SQL compilation error:\nInvalid argument types for function '{self.name}':"
                f" got {len(values)} arguments, expected {expected}",
                code="001044",
                sql_state="42P13",
            )
        arguments = {
            name: coerce(value, kind) for (name, kind), value in zip(signature, values, strict=True)
        }
        with _engine_errors(self.name):
            return self.run(engine, session, arguments)


_SQL_TYPES = {TEXT: "VARCHAR", FIXED: "NUMBER", BOOLEAN: "BOOLEAN", VARIANT: "VARIANT"}
"""How Snowflake spells the argument types in its messages."""

_ERROR_STATES: tuple[tuple[type[EngineError], str], ...] = (
    (InvalidRequest, "22023"),
    (NotFound, "02000"),
    (NotReady, "55000"),
    (PermissionDenied, "42501"),
)


@contextmanager
def _engine_errors(routine: str) -> Iterator[None]:
    try:
        yield
    except EngineError as exc:
        state = next((s for kind, s in _ERROR_STATES if isinstance(exc, kind)), "P0000")
        raise SqlError(f"{routine}: {exc}", code="100357", sql_state=state) from exc


def _single(name: str, column_type: str, value: Any) -> ResultSet:
    return ResultSet((Column(name, column_type),), ((value,),))


def _get_job(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    kind = parse_job_type(args["type"])
    try:
        job = engine.get(args["id"], kind=kind)
    except NotFound:
        return JOBS.result([])
    return JOBS.result([job_row(job)])


def _exec_job_async(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    payload = args["payload"]
    if not isinstance(payload, (str, dict)):
        raise InvalidRequest("payload must be the job's payload as JSON text or an object")
    job_id = engine.create_job(
        args["type"],
        args["name"],
        payload,
        user=session.user,
        timeout_mins=args.get("timeout_mins"),
    )
    return _single("ID", TEXT, job_id)


def _exec_async_v2(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    read_only = args["readonly"]
    transaction_id = engine.create_transaction(
        database=args["dbname"],
        engine_name=args["engine"],
        query=args["query"],
        user=session.user,
        read_only=True if read_only is None else read_only,
        language=args["language"] or "rel",
        inputs=args["inputs"],
        headers=args["headers"],
        timeout_mins=args.get("timeout_mins"),
        abort_detached=bool(args["abort_detached"]),
    )
    return _single("ID", TEXT, transaction_id)


def _cancelled(record: JobSnapshot) -> ResultSet:
    return ResultSet((Column("ID", TEXT), Column("STATE", TEXT)), ((record.id, record.state),))


def _cancel_job(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    kind = parse_job_type(args["type"])
    return _cancelled(engine.cancel(args["id"], kind=kind, user=session.user))


def _cancel_own_transaction(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    return _cancelled(engine.cancel(args["id"], kind=TRANSACTION, user=session.user))


def _cancel_transaction(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    record = engine.cancel(args["id"], kind=TRANSACTION, user=session.user, all_users=True)
    return _cancelled(record)


def _artifacts(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    artifacts = engine.artifacts(args["id"], user=session.user)
    if not artifacts:
        return ResultSet((Column("FILENAME", VARIANT),))
    columns = tuple(Column(str(artifact["filename"]), VARIANT) for artifact in artifacts)
    values = tuple(
        json.dumps({str(key).upper(): value for key, value in artifact.items()})
        for artifact in artifacts
    )
    return ResultSet(columns, (values,))


def _job_events(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    kind = parse_job_type(args["type"])
    page = engine.events(args["id"], args["token"], kind=kind, user=session.user)
    return _single("", VARIANT, json.dumps(page.to_json()))


def _transaction_events(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    page = engine.events(args["id"], args["token"], kind=TRANSACTION, user=session.user)
    return _single("", VARIANT, json.dumps(page.to_json()))


def _service_endpoint(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    return _single("SERVICE_ENDPOINT", TEXT, session.endpoint.lookup())


def _problems(engine: Engine, session: Session, args: Arguments) -> ResultSet:
    problems = [
        {str(key).upper(): value for key, value in problem.items()}
        for problem in engine.problems(args["id"], user=session.user)
    ]
    names = list(dict.fromkeys(key for problem in problems for key in problem))
    if not names:
        return ResultSet(tuple(Column(name, TEXT) for name in _NO_PROBLEM_COLUMNS))
    columns = tuple(
        Column(name, column_type_of([problem.get(name) for problem in problems])) for name in names
    )
    rows = tuple(tuple(problem.get(name) for name in names) for problem in problems)
    return ResultSet(columns, rows)


_NO_PROBLEM_COLUMNS = ("TYPE", "MESSAGE")
"""The columns of an empty problems answer: a result needs at least one column."""

_ID = ("id", TEXT)
_TYPE = ("type", TEXT)
_TOKEN = ("token", TEXT)
_JOB_CREATE = (_TYPE, ("name", TEXT), ("payload", VARIANT))
_V2_HEAD = (
    ("dbname", TEXT),
    ("engine", TEXT),
    ("query", TEXT),
    ("inputs", VARIANT),
    ("readonly", BOOLEAN),
    ("nowait_durable", BOOLEAN),
    ("language", TEXT),
)
_V2_TAIL = (("headers", VARIANT), ("abort_detached", BOOLEAN))
_TIMEOUT = ("timeout_mins", FIXED)


def _table(*routines: Routine) -> dict[tuple[str, str], Routine]:
    return {(routine.schema, routine.name): routine for routine in routines}


PROCEDURES = _table(
    Routine("SERVICE_ENDPOINT", ((("refresh", BOOLEAN),),), _service_endpoint, schema="app"),
    Routine("GET_JOB", ((_TYPE, _ID),), _get_job),
    Routine(
        "EXEC_JOB_ASYNC",
        (_JOB_CREATE, (*_JOB_CREATE, ("options", VARIANT), _TIMEOUT)),
        _exec_job_async,
    ),
    Routine(
        "EXEC_ASYNC_V2", ((*_V2_HEAD, *_V2_TAIL), (*_V2_HEAD, _TIMEOUT, *_V2_TAIL)), _exec_async_v2
    ),
    Routine("CANCEL_JOB", ((_TYPE, _ID),), _cancel_job),
    Routine("CANCEL_OWN_TRANSACTION", ((_ID,),), _cancel_own_transaction),
    Routine("CANCEL_TRANSACTION", ((_ID,),), _cancel_transaction),
    Routine("GET_OWN_TRANSACTION_ARTIFACTS", ((_ID,),), _artifacts),
)
"""What `CALL` reaches, by (lower-cased schema, upper-cased name)."""

FUNCTIONS = _table(
    Routine("GET_JOB_EVENTS", ((_TYPE, _ID, _TOKEN),), _job_events),
    Routine("GET_OWN_TRANSACTION_EVENTS", ((_ID, _TOKEN),), _transaction_events),
)
"""What `SELECT f(...)` reaches (keyed as `PROCEDURES`); the answer's one column is renamed
after the select item."""

TABLE_FUNCTIONS = _table(
    Routine("GET_OWN_TRANSACTION_PROBLEMS", ((_ID,),), _problems),
)
"""What `SELECT * FROM TABLE(f(...))` reaches."""
