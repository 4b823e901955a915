"""The emulator's SQL API, driven over loopback by the real Snowflake connector (no client package).

Each test gets an empty store on a manual clock; `alice` and `bob` are two logins, so two users.
The statements are written exactly as the protocol's SQL table (docs/protocol.md) spells them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import snowflake.connector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snowflake.connector import ProgrammingError

from jobs_emulator import Emulator, serve
from jobs_emulator._endpoint import DirectAccessEndpoint
from jobs_emulator._messages import Request, Response
from jobs_emulator._snowflake_api import SnowflakeApi
from jobs_emulator._snowflake_results import SqlError
from jobs_emulator._sql_syntax import parse
from jobs_emulator._timestamps import to_datetime

JOB_COLUMNS = (
    "ID, REASONER_TYPE, REASONER_NAME, STATE, CREATED_BY, CREATED_ON, FINISHED_AT, DURATION,"
    " PAYLOAD, TIMEOUT_MS, ABORT_REASON"
)
TXN_COLUMNS = (
    "id, database_name, engine_name, state, abort_reason, read_only, created_by, created_on,"
    " finished_at, duration"
)
GET_JOB = "call {app}.api.GET_JOB(?, ?)"
CREATE_JOB = "call {app}.api.EXEC_JOB_ASYNC(?, ?, ?)"
CREATE_JOB_TIMEOUT = "call {app}.api.EXEC_JOB_ASYNC(?, ?, ?, null, ?)"
CREATE_TXN = "call {app}.api.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, PARSE_JSON(?), ?)"
CREATE_TXN_TIMEOUT = (
    "call {app}.api.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, ?, PARSE_JSON(?), ?)"
)
LIST_JOBS = f"SELECT {JOB_COLUMNS} FROM {{app}}.api.JOBS WHERE UPPER(TRIM(REASONER_TYPE)) IN (?, ?)"
ORDER_JOBS = " ORDER BY CREATED_ON DESC"
LIST_TXNS = f"SELECT {TXN_COLUMNS} FROM {{app}}.api.transactions"
GET_TXN = f"{LIST_TXNS} WHERE id = ? LIMIT 1"
JOB_EVENTS = "select {app}.api.GET_JOB_EVENTS(?, ?, ?)"
TXN_EVENTS = "select {app}.api.get_own_transaction_events(?, ?)"
CANCEL_JOB = "call {app}.api.CANCEL_JOB(?, ?)"
CANCEL_OWN = "call {app}.api.CANCEL_OWN_TRANSACTION(?)"
CANCEL_ANY = "call {app}.api.CANCEL_TRANSACTION(?)"
ARTIFACTS = "call {app}.api.get_own_transaction_artifacts(?)"
PROBLEMS = "select * from table({app}.api.get_own_transaction_problems(?))"


def handle(emu: Emulator, request: Request, *, app: str | None = None) -> Response:
    """Return the SQL wire API's answer to `request`, called directly (no socket)."""
    api = SnowflakeApi(emu.engine, emu.authenticator, DirectAccessEndpoint(emu.host, emu.port), app)
    return api.handle(request)


class Sql:
    """One login: runs statements (with `{app}` filled in) and returns rows as dicts."""

    def __init__(self, emu: Emulator, user: str) -> None:
        self.app = emu.app
        self.connection = snowflake.connector.connect(**{**emu.snowflake, "user": user})

    def rows(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement.replace("{app}", self.app), list(params))
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, statement: str, *params: Any) -> dict[str, Any]:
        (row,) = self.rows(statement, *params)
        return row

    def value(self, statement: str, *params: Any) -> Any:
        (value,) = self.one(statement, *params).values()
        return value

    def fails(self, statement: str, *params: Any) -> ProgrammingError:
        with pytest.raises(ProgrammingError) as caught:
            self.rows(statement, *params)
        return caught.value

    def create_job(self, job_type: str = "ML", name: str = "w1", **emulate: Any) -> str:
        payload = json.dumps({"model": "m", "emulate": emulate})
        return str(self.value(CREATE_JOB, job_type, name, payload))

    def create_txn(
        self, engine: str = "e1", timeout_mins: int | None = None, **emulate: Any
    ) -> str:
        head = ["db1", engine, "def output = 1", json.dumps({"x": 1}), True, False, "rel"]
        tail = [json.dumps({"emulate": emulate}), False]
        if timeout_mins is None:
            return str(self.value(CREATE_TXN, *head, *tail))
        return str(self.value(CREATE_TXN_TIMEOUT, *head, timeout_mins, *tail))


@pytest.fixture(scope="module")
def module_manual_emu() -> Iterator[Emulator]:
    with serve(clock="manual", page_size=2) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def t0(module_manual_emu: Emulator) -> datetime:
    """Empty the store; return the (manual) clock's time, which carries on across tests."""
    module_manual_emu.engine.reset()
    return to_datetime(module_manual_emu.engine.now())


@pytest.fixture(scope="module")
def alice(module_manual_emu: Emulator) -> Iterator[Sql]:
    sql = Sql(module_manual_emu, "alice")
    yield sql
    sql.connection.close()


@pytest.fixture(scope="module")
def bob(module_manual_emu: Emulator) -> Iterator[Sql]:
    sql = Sql(module_manual_emu, "bob")
    yield sql
    sql.connection.close()


# -- the wire -------------------------------------------------------------------------------


def test_login_answers_the_session_tokens(module_manual_emu: Emulator) -> None:
    body = json.dumps({"data": {"LOGIN_NAME": "carol", "PASSWORD": "x"}}).encode()
    request = Request("POST", "/session/v1/login-request", {}, {}, body)
    answer = json.loads(handle(module_manual_emu, request).body)
    assert answer["success"] is True
    assert {"token", "masterToken", "sessionId"} <= set(answer["data"])


def test_a_gzip_encoded_query_runs_as_the_token_user(
    module_manual_emu: Emulator, alice: Sql
) -> None:
    login = Request("POST", "/session/v1/login-request", {}, {}, b'{"data": {"LOGIN_NAME": "dan"}}')
    token = json.loads(handle(module_manual_emu, login).body)["data"]["token"]
    payload = json.dumps({"emulate": {"duration_s": 1}})
    query = {
        "sqlText": CREATE_JOB.replace("{app}", module_manual_emu.app),
        "bindings": {
            "1": {"type": "TEXT", "value": "SOLVER"},
            "2": {"type": "TEXT", "value": "w"},
            "3": {"type": "TEXT", "value": payload},
        },
    }
    headers = {"authorization": f'Snowflake Token="{token}"', "content-encoding": "gzip"}
    request = Request(
        "POST", "/queries/v1/query-request", {}, headers, gzip.compress(json.dumps(query).encode())
    )
    answer = json.loads(handle(module_manual_emu, request).body)
    assert answer["data"]["queryResultFormat"] == "json"
    [[job_id]] = answer["data"]["rowset"]
    assert alice.one(GET_JOB, "SOLVER", job_id)["CREATED_BY"] == "dan"


def test_a_query_without_a_session_token_is_refused(module_manual_emu: Emulator) -> None:
    request = Request("POST", "/queries/v1/query-request", {}, {}, b'{"sqlText": "select 1"}')
    answer = json.loads(handle(module_manual_emu, request).body)
    assert answer["success"] is False
    assert answer["code"] == "390101"


def test_unknown_wire_paths_answer_404(module_manual_emu: Emulator) -> None:
    assert handle(module_manual_emu, Request("GET", "/nowhere", {}, {})).status == 404


def test_telemetry_and_session_delete_are_acknowledged(module_manual_emu: Emulator) -> None:
    for path, query in (("/telemetry/send", {}), ("/session", {"delete": "true"})):
        answer = handle(module_manual_emu, Request("POST", path, query, {}, b"{}"))
        assert json.loads(answer.body)["success"] is True


# -- jobs -----------------------------------------------------------------------------------


def test_a_job_goes_from_created_to_completed_with_typed_columns(
    module_manual_emu: Emulator, alice: Sql, t0: datetime
) -> None:
    job_id = alice.create_job("ML", "w1", duration_s=2)
    job = alice.one(GET_JOB, "ML", job_id)
    assert job["STATE"] == "CREATED"
    assert job["CREATED_ON"] == t0
    assert job["FINISHED_AT"] is None
    module_manual_emu.engine.advance(3)
    assert alice.one(GET_JOB, "ML", job_id) == {
        "ID": job_id,
        "REASONER_TYPE": "ML",
        "REASONER_NAME": "w1",
        "STATE": "COMPLETED",
        "CREATED_BY": "alice",
        "CREATED_ON": t0,
        "FINISHED_AT": t0 + timedelta(seconds=2),
        "DURATION": 2000,
        "PAYLOAD": json.dumps({"model": "m", "emulate": {"duration_s": 2}}),
        "TIMEOUT_MS": None,
        "ABORT_REASON": None,
    }


def test_get_job_of_an_unknown_id_or_other_type_has_no_rows(alice: Sql) -> None:
    job_id = alice.create_job("ML")
    assert alice.rows(GET_JOB, "ML", "no-such-id") == []
    assert alice.rows(GET_JOB, "SOLVER", job_id) == []


def test_a_job_that_outlives_its_timeout_is_aborted(
    module_manual_emu: Emulator, alice: Sql
) -> None:
    payload = json.dumps({"emulate": {"duration_s": 600}})
    job_id = alice.value(CREATE_JOB_TIMEOUT, "SOLVER", "w1", payload, 2)
    assert alice.one(GET_JOB, "SOLVER", job_id)["TIMEOUT_MS"] == 120_000
    module_manual_emu.engine.advance(121)
    job = alice.one(GET_JOB, "SOLVER", job_id)
    assert (job["STATE"], job["DURATION"]) == ("ABORTED", 120_000)
    assert "timeout" in job["ABORT_REASON"]


@pytest.mark.parametrize(
    ("outcome", "reason"), [("FAILED", "solver crashed"), ("ABORTED", "client disconnected")]
)
def test_scripted_outcomes_show_in_the_job(
    module_manual_emu: Emulator, alice: Sql, outcome: str, reason: str
) -> None:
    job_id = alice.create_job("SOLVER", outcome=outcome, abort_reason=reason, duration_s=1)
    module_manual_emu.engine.advance(1)
    job = alice.one(GET_JOB, "SOLVER", job_id)
    assert (job["STATE"], job["ABORT_REASON"]) == (outcome, reason)


def _three_jobs(emu: Emulator, alice: Sql, bob: Sql) -> list[str]:
    """Create ML jobs by alice on w1, bob on W2, alice on w2, a second apart; return their ids
    newest first. The clock ends 0.15 s after the last: it is PENDING, the others RUNNING."""
    ids = []
    for step, (sql, name) in zip(
        (1, 1, 0.15), ((alice, "w1"), (bob, "W2"), (alice, "w2")), strict=True
    ):
        ids.append(sql.create_job("ML", name, duration_s=10))
        emu.engine.advance(step)
    return ids[::-1]


def test_list_jobs_is_newest_first_and_matches_both_type_spellings(
    module_manual_emu: Emulator, alice: Sql, bob: Sql
) -> None:
    newest_first = _three_jobs(module_manual_emu, alice, bob)
    solver = alice.create_job("SOLVER")
    rows = alice.rows(LIST_JOBS + ORDER_JOBS, "PREDICTIVE", "ML")
    assert [row["ID"] for row in rows] == newest_first
    assert [row["ID"] for row in alice.rows(LIST_JOBS, "PRESCRIPTIVE", "SOLVER")] == [solver]


@pytest.mark.parametrize(
    ("filters", "params", "expected"),
    [
        (" AND LOWER(REASONER_NAME) = ?", ["w2"], [0, 1]),
        (" AND LOWER(CREATED_BY) = ?", ["alice"], [0, 2]),
        (" AND LOWER(REASONER_NAME) = ? AND LOWER(CREATED_BY) = ?", ["w2", "bob"], [1]),
        (" AND STATE = ?", ["RUNNING"], [1, 2]),
        (" AND STATE = ?", ["PENDING"], [0]),
        (" AND STATE in ('CREATED','PENDING','RUNNING')", [], [0, 1, 2]),
        (ORDER_JOBS + " LIMIT 2", [], [0, 1]),
        (ORDER_JOBS + " LIMIT 1 OFFSET 1", [], [1]),
        (ORDER_JOBS + " LIMIT ? OFFSET ?", [2, 1], [1, 2]),
        (ORDER_JOBS + " LIMIT ? OFFSET ?", [5, 3], []),
    ],
)
def test_list_jobs_filters_and_pages(
    module_manual_emu: Emulator,
    alice: Sql,
    bob: Sql,
    filters: str,
    params: list[Any],
    expected: list[int],
) -> None:
    newest_first = _three_jobs(module_manual_emu, alice, bob)
    rows = alice.rows(LIST_JOBS + filters, "PREDICTIVE", "ML", *params)
    assert [row["ID"] for row in rows] == [newest_first[i] for i in expected]


def test_list_jobs_by_id(module_manual_emu: Emulator, alice: Sql) -> None:
    job_id = alice.create_job("ML")
    alice.create_job("ML")
    rows = alice.rows(LIST_JOBS + " AND ID = ?" + ORDER_JOBS, "PREDICTIVE", "ML", job_id)
    assert [row["ID"] for row in rows] == [job_id]


def test_job_events_page_to_the_end_of_the_stream(module_manual_emu: Emulator, alice: Sql) -> None:
    job_id = alice.create_job("ML", duration_s=5, events=5)
    module_manual_emu.engine.advance(2.5)
    page = json.loads(alice.value(JOB_EVENTS, "ML", job_id, ""))
    assert [event["index"] for event in page["events"]] == [1, 2]
    token = page["continuation_token"]
    page = json.loads(alice.value(JOB_EVENTS, "ML", job_id, token))
    assert (page["events"], page["continuation_token"] is not None) == ([], True)
    module_manual_emu.engine.advance(2.5)
    seen: list[int] = [1, 2]
    while token is not None:
        page = json.loads(alice.value(JOB_EVENTS, "ML", job_id, token))
        seen += [event["index"] for event in page["events"]]
        token = page["continuation_token"]
    assert seen == [1, 2, 3, 4, 5]


def test_the_events_column_is_named_after_the_select_item(
    module_manual_emu: Emulator, alice: Sql
) -> None:
    job_id = alice.create_job("ML")
    (name,) = alice.one(JOB_EVENTS, "ML", job_id, "0")
    assert name == f"{module_manual_emu.app}.API.GET_JOB_EVENTS(?, ?, ?)"


def test_cancel_job(module_manual_emu: Emulator, alice: Sql, bob: Sql) -> None:
    job_id = alice.create_job("ML", duration_s=5)
    module_manual_emu.engine.advance(1)
    assert bob.one(CANCEL_JOB, "ML", job_id) == {"ID": job_id, "STATE": "CANCELED"}
    module_manual_emu.engine.advance(10)
    job = alice.one(GET_JOB, "ML", job_id)
    assert (job["STATE"], job["DURATION"]) == ("CANCELED", 1000)


def test_cancel_or_events_of_an_unknown_job_fail_as_not_found(alice: Sql) -> None:
    for statement, params in ((CANCEL_JOB, ["ML", "nope"]), (JOB_EVENTS, ["ML", "nope", ""])):
        error = alice.fails(statement, *params)
        assert "job nope not found" in error.msg
        assert (error.errno, error.sqlstate) == (100357, "02000")


# -- transactions ---------------------------------------------------------------------------


def test_a_transaction_is_created_and_read_back(
    module_manual_emu: Emulator, alice: Sql, t0: datetime
) -> None:
    txn_id = alice.create_txn("e1", duration_s=1)
    module_manual_emu.engine.advance(2)
    assert alice.one(GET_TXN, txn_id) == {
        "ID": txn_id,
        "DATABASE_NAME": "db1",
        "ENGINE_NAME": "e1",
        "STATE": "COMPLETED",
        "ABORT_REASON": None,
        "READ_ONLY": True,
        "CREATED_BY": "alice",
        "CREATED_ON": t0,
        "FINISHED_AT": t0 + timedelta(seconds=1),
        "DURATION": 1000,
    }
    assert alice.rows(GET_TXN, "no-such-id") == []


def test_a_transaction_with_a_timeout_is_aborted_at_the_timeout(
    module_manual_emu: Emulator, alice: Sql
) -> None:
    txn_id = alice.create_txn("e1", timeout_mins=1, duration_s=300)
    module_manual_emu.engine.advance(61)
    row = alice.one(GET_TXN, txn_id)
    assert (row["STATE"], row["DURATION"]) == ("ABORTED", 60_000)


def test_the_create_arguments_reach_the_transaction(alice: Sql) -> None:
    params = ["db9", "e9", "def q = 2", "null", False, True, "lqp", "null", True]
    txn_id = alice.value(CREATE_TXN, *params)
    record = alice.one(GET_TXN, txn_id)
    assert (record["DATABASE_NAME"], record["READ_ONLY"]) == ("db9", False)


@pytest.mark.parametrize(
    ("where", "params", "expected"),
    [
        ("", [], [0, 1, 2]),
        (" WHERE LOWER(engine_name) = ?", ["e2"], [0, 1]),
        (" WHERE LOWER(created_by) = ?", ["bob"], [1]),
        (" WHERE state = ?", ["COMPLETED"], [2]),
        (
            " WHERE state in ('CREATED','PENDING','RUNNING') AND LOWER(created_by) = ?",
            ["alice"],
            [0],
        ),
        (" ORDER BY created_on DESC LIMIT ? OFFSET ?", [1, 1], [1]),
        (" ORDER BY created_on DESC LIMIT ?", [2], [0, 1]),
    ],
)
def test_list_transactions_filters_and_pages(
    module_manual_emu: Emulator,
    alice: Sql,
    bob: Sql,
    where: str,
    params: list[Any],
    expected: list[int],
) -> None:
    ids = []
    for sql, engine, duration in ((alice, "e1", 1), (bob, "E2", 10), (alice, "e2", 10)):
        ids.append(sql.create_txn(engine, duration_s=duration))
        module_manual_emu.engine.advance(1)
    newest_first = ids[::-1]
    rows = alice.rows(LIST_TXNS + where, *params)
    assert [row["ID"] for row in rows] == [newest_first[i] for i in expected]


def test_transaction_events_page_to_the_end(module_manual_emu: Emulator, alice: Sql) -> None:
    txn_id = alice.create_txn("e1", duration_s=1, events=3)
    module_manual_emu.engine.advance(1)
    token, seen = "", []
    while token is not None:
        page = json.loads(alice.value(TXN_EVENTS, txn_id, token))
        seen += [event["index"] for event in page["events"]]
        token = page["continuation_token"]
    assert seen == [1, 2, 3]


def test_artifacts_row_has_one_column_per_file(module_manual_emu: Emulator, alice: Sql) -> None:
    artifacts = ["out.csv", {"filename": "Model.JSON", "size": 12, "url": "s3://x"}]
    txn_id = alice.create_txn("e1", duration_s=1, artifacts=artifacts)
    assert alice.rows(ARTIFACTS, txn_id) == []
    module_manual_emu.engine.advance(1)
    row = alice.one(ARTIFACTS, txn_id)
    assert {name: json.loads(value) for name, value in row.items()} == {
        "out.csv": {"FILENAME": "out.csv"},
        "Model.JSON": {"FILENAME": "Model.JSON", "SIZE": 12, "URL": "s3://x"},
    }


def test_problems_are_rows_with_upper_cased_keys(module_manual_emu: Emulator, alice: Sql) -> None:
    problems = [
        {"type": "error", "message": "bad rel", "line": 3},
        {"type": "warning", "message": "slow", "is_error": False, "props": {"a": 1}},
    ]
    txn_id = alice.create_txn("e1", duration_s=1, problems=problems)
    assert alice.rows(PROBLEMS, txn_id) == []
    module_manual_emu.engine.advance(1)
    assert alice.rows(PROBLEMS, txn_id) == [
        {"TYPE": "error", "MESSAGE": "bad rel", "LINE": 3, "IS_ERROR": None, "PROPS": None},
        {
            "TYPE": "warning",
            "MESSAGE": "slow",
            "LINE": None,
            "IS_ERROR": False,
            "PROPS": '{"a": 1}',
        },
    ]


def test_cancel_own_transaction(module_manual_emu: Emulator, alice: Sql) -> None:
    txn_id = alice.create_txn("e1", duration_s=5)
    module_manual_emu.engine.advance(1)
    assert alice.one(CANCEL_OWN, txn_id) == {"ID": txn_id, "STATE": "CANCELED"}
    assert alice.one(GET_TXN, txn_id)["STATE"] == "CANCELED"


# -- users and permissions ------------------------------------------------------------------


@pytest.mark.parametrize("statement", [CANCEL_OWN, ARTIFACTS, PROBLEMS, TXN_EVENTS])
def test_another_users_transaction_is_out_of_reach(alice: Sql, bob: Sql, statement: str) -> None:
    txn_id = alice.create_txn("e1")
    params = [txn_id, ""] if statement == TXN_EVENTS else [txn_id]
    error = bob.fails(statement, *params)
    assert "belongs to another user" in error.msg
    assert error.sqlstate == "42501"


def test_cancel_transaction_reaches_any_users_transaction(
    module_manual_emu: Emulator, alice: Sql, bob: Sql
) -> None:
    txn_id = alice.create_txn("e1", duration_s=5)
    assert bob.one(CANCEL_ANY, txn_id)["STATE"] == "CANCELED"


def test_each_login_is_its_own_creator(module_manual_emu: Emulator, alice: Sql, bob: Sql) -> None:
    mine, theirs = alice.create_job("ML"), bob.create_job("ML")
    rows = bob.rows(LIST_JOBS + ORDER_JOBS, "PREDICTIVE", "ML")
    assert {row["ID"]: row["CREATED_BY"] for row in rows} == {mine: "alice", theirs: "bob"}


# -- not ready ------------------------------------------------------------------------------


def test_a_not_ready_script_fails_the_create(alice: Sql) -> None:
    creates: tuple[Callable[[], str], ...] = (
        lambda: alice.create_job("ML", not_ready=True),
        lambda: alice.create_txn(not_ready=True),
    )
    for create in creates:
        with pytest.raises(ProgrammingError, match="engine is not ready to accept jobs") as caught:
            create()
        assert caught.value.sqlstate == "55000"
    assert alice.rows(LIST_JOBS, "PREDICTIVE", "ML") == []
    assert alice.rows(LIST_TXNS) == []


def test_a_not_ready_engine_fails_create_get_and_events(
    module_manual_emu: Emulator, alice: Sql
) -> None:
    job_id = alice.create_job("ML", "w1")
    module_manual_emu.engine.set_not_ready("W1")
    assert "not ready to accept jobs" in alice.fails(GET_JOB, "ML", job_id).msg
    assert "not ready to accept jobs" in alice.fails(JOB_EVENTS, "ML", job_id, "").msg
    with pytest.raises(ProgrammingError, match="engine is not ready to accept jobs"):
        alice.create_job("ML", "w1")


# -- statement matching and errors ----------------------------------------------------------


def test_statements_match_case_and_whitespace_insensitively(alice: Sql) -> None:
    job_id = alice.create_job("ML")
    assert alice.rows("  CALL\n {app}.API.get_job( ? ,\t?);", "ML", job_id)[0]["ID"] == job_id
    assert alice.rows("call {app}.api.get_job('ML', '" + job_id + "')")[0]["ID"] == job_id


@pytest.mark.parametrize(
    "statement", ["select 1", "drop table {app}.api.JOBS", "SELECT ID FROM {app}.api.JOBS WHERE"]
)
def test_an_unknown_statement_is_a_compilation_error_naming_it(alice: Sql, statement: str) -> None:
    error = alice.fails(statement)
    assert (error.errno, error.sqlstate) == (1003, "42000")
    assert "SQL compilation error" in error.msg
    assert statement.replace("{app}", alice.app) in error.msg


@pytest.mark.parametrize(
    ("statement", "params", "fragment"),
    [
        ("SELECT * FROM {app}.other.JOBS", [], "'JOBS_APP.OTHER.JOBS' does not exist"),
        ("SELECT * FROM {app}.api.WORKERS", [], "does not exist or not authorized"),
        ("call {app}.api.DROP_EVERYTHING(?)", ["x"], "Unknown user-defined procedure"),
        ("select {app}.api.GET_JOB(?, ?)", ["ML", "x"], "Unknown user-defined function"),
        ("SELECT NOPE FROM {app}.api.JOBS", [], "invalid identifier 'NOPE'"),
        ("SELECT ID FROM {app}.api.JOBS WHERE NOPE = ?", [1], "invalid identifier 'NOPE'"),
        ("SELECT ID FROM {app}.api.JOBS LIMIT ?", [-1], "Invalid row count '-1'"),
        (GET_JOB, ["ML"], "the statement has 2 bind variables (?) but 1 values were bound"),
        ("call {app}.api.GET_JOB(?)", ["ML"], "Invalid argument types for function 'GET_JOB'"),
        (CREATE_JOB_TIMEOUT, ["ML", "w", "{}", "soon"], "Numeric value 'soon' is not recognized"),
        (CREATE_TXN, ["d", "e", "q", "{", True, False, "rel", "{}", False], "Error parsing JSON"),
        (CREATE_JOB, ["ROBOT", "w", "{}"], "unknown job_type 'ROBOT'"),
        (CREATE_JOB, ["ML", "w", '{"emulate": {"speed": 1}}'], "unknown emulate keys ['speed']"),
        (JOB_EVENTS, ["ML", "x", "garbage"], "job x not found"),
    ],
)
def test_bad_statements_and_arguments_are_clear_sql_errors(
    alice: Sql, statement: str, params: list[Any], fragment: str
) -> None:
    assert fragment in alice.fails(statement, *params).msg


def test_names_outside_the_application_do_not_exist(module_manual_emu: Emulator) -> None:
    login = Request("POST", "/session/v1/login-request", {}, {}, b'{"data": {"LOGIN_NAME": "e"}}')
    token = json.loads(handle(module_manual_emu, login, app="MY_APP").body)["data"]["token"]
    headers = {"authorization": f'Snowflake Token="{token}"'}
    for sql, found in (
        ("select * from my_app.api.jobs", True),
        ("select * from app.api.jobs", False),
    ):
        body = json.dumps({"sqlText": sql}).encode()
        request = Request("POST", "/queries/v1/query-request", {}, headers, body)
        answer = json.loads(handle(module_manual_emu, request, app="MY_APP").body)
        assert answer["success"] is found
    assert "'APP.API.JOBS' does not exist or not authorized" in answer["message"]


def test_a_bad_continuation_token_is_an_invalid_request(alice: Sql) -> None:
    job_id = alice.create_job("ML")
    error = alice.fails(JOB_EVENTS, "ML", job_id, "garbage")
    assert "continuation_token" in error.msg
    assert error.sqlstate == "22023"


_WORDS = ["call", "select", "*", "from", "table", "(", ")", ",", "?", "a.api.jobs", "x", "'it''s'"]
_WORDS += ["1", "2.5", "where", "and", "in", "=", "order", "by", "desc", "limit", "offset", "null"]


# The autouse store fixture is harmless to share between examples: parsing touches no store.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60) | st.lists(st.sampled_from(_WORDS), max_size=20).map(" ".join))
def test_any_text_parses_or_is_a_compilation_error(text: str) -> None:
    error = None
    try:
        parse(text)
    except SqlError as exc:
        error = exc
    assert error is None or (error.code, error.sql_state) == ("001003", "42000")
