"""SQL API statement builders: exact text and parameters for every call and type."""

from __future__ import annotations

from typing import Any

import pytest

import jobs_core as core
from jobs_core import _sql_dialect as sql
from jobs_core._effects import SqlQuery
from jobs_core._errors import JobInvalidRequestError
from jobs_core._filters import ListFilters
from jobs_core._reasoners import ReasonerType
from tests.core.replies import SQL

LOGIC, PRESCRIPTIVE, PREDICTIVE = (
    ReasonerType.LOGIC,
    ReasonerType.PRESCRIPTIVE,
    ReasonerType.PREDICTIVE,
)
NS = "MY_APP.api"
TXN_COLUMNS = (
    "id, database_name, engine_name, state, abort_reason, read_only, created_by, created_on,"
    " finished_at, duration"
)
JOB_COLUMNS = (
    "ID, REASONER_TYPE, REASONER_NAME, STATE, CREATED_BY, CREATED_ON, FINISHED_AT, DURATION,"
    " PAYLOAD, TIMEOUT_MS, ABORT_REASON"
)
JOBS = f"SELECT {JOB_COLUMNS} FROM {NS}.JOBS WHERE UPPER(TRIM(REASONER_TYPE)) IN (?, ?)"
TXNS = f"SELECT {TXN_COLUMNS} FROM {NS}.transactions"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            sql.build_get(NS, PREDICTIVE, "j1"),
            SqlQuery(f"call {NS}.GET_JOB(?, ?)", ("ML", "j1"), "get"),
        ),
        (
            sql.build_get(NS, PRESCRIPTIVE, "j1"),
            SqlQuery(f"call {NS}.GET_JOB(?, ?)", ("SOLVER", "j1"), "get"),
        ),
        (
            sql.build_get(NS, LOGIC, "t1"),
            SqlQuery(
                f"SELECT {TXN_COLUMNS} FROM {NS}.transactions WHERE id = ? LIMIT 1", ("t1",), "get"
            ),
        ),
        (
            sql.build_events(NS, PREDICTIVE, "j1", "", "progress"),
            SqlQuery(f"select {NS}.GET_JOB_EVENTS(?, ?, ?)", ("ML", "j1", ""), "events"),
        ),
        (
            sql.build_events(NS, PRESCRIPTIVE, "j1", "0", "progress"),
            SqlQuery(f"select {NS}.GET_JOB_EVENTS(?, ?, ?)", ("SOLVER", "j1", "0"), "events"),
        ),
        (
            sql.build_events(NS, LOGIC, "t1", "0", "progress"),
            SqlQuery(f"select {NS}.get_own_transaction_events(?, ?)", ("t1", ""), "events"),
        ),
        (
            sql.build_events(NS, LOGIC, "t1", "17", "progress"),
            SqlQuery(f"select {NS}.get_own_transaction_events(?, ?)", ("t1", "17"), "events"),
        ),
        (
            sql.build_cancel(NS, PREDICTIVE, "j1", all_users=False),
            SqlQuery(f"call {NS}.CANCEL_JOB(?, ?)", ("ML", "j1"), "cancel"),
        ),
        (
            sql.build_cancel(NS, PRESCRIPTIVE, "j1", all_users=False),
            SqlQuery(f"call {NS}.CANCEL_JOB(?, ?)", ("SOLVER", "j1"), "cancel"),
        ),
        (
            sql.build_cancel(NS, LOGIC, "t1", all_users=False),
            SqlQuery(f"call {NS}.CANCEL_OWN_TRANSACTION(?)", ("t1",), "cancel"),
        ),
        (
            sql.build_cancel(NS, LOGIC, "t1", all_users=True),
            SqlQuery(f"call {NS}.CANCEL_TRANSACTION(?)", ("t1",), "cancel"),
        ),
        (
            sql.build_artifacts(NS, "t1"),
            SqlQuery(f"call {NS}.get_own_transaction_artifacts(?)", ("t1",), "artifacts"),
        ),
        (
            sql.build_problems(NS, "t1"),
            SqlQuery(
                f"select * from table({NS}.get_own_transaction_problems(?))", ("t1",), "problems"
            ),
        ),
        (
            sql.build_create(NS, PREDICTIVE, "w1", {"a": [1, "é"]}, None, abort_detached=True),
            SqlQuery(
                f"call {NS}.EXEC_JOB_ASYNC(?, ?, ?)",
                ("ML", "w1", '{"a":[1,"\\u00e9"]}'),
                "create",
            ),
        ),
        (
            sql.build_create(NS, PRESCRIPTIVE, "s1", {}, 20, abort_detached=False),
            SqlQuery(
                f"call {NS}.EXEC_JOB_ASYNC(?, ?, ?, null, ?)", ("SOLVER", "s1", "{}", 20), "create"
            ),
        ),
    ],
)
def test_statement(query: SqlQuery, expected: SqlQuery) -> None:
    assert query == expected


V2 = f"call {NS}.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, PARSE_JSON(?), ?)"
V2_TIMEOUT = f"call {NS}.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, ?, PARSE_JSON(?), ?)"


@pytest.mark.parametrize(
    ("payload", "timeout", "abort", "expected"),
    [
        (
            {"dbname": "db", "query": "def output = 1"},
            None,
            False,
            SqlQuery(
                V2, ("db", "eng", "def output = 1", "{}", True, True, "rel", "{}", False), "create"
            ),
        ),
        (
            {"database": "db", "raw_code": "q", "readonly": False, "language": "lqp"},
            15,
            True,
            SqlQuery(
                V2_TIMEOUT, ("db", "eng", "q", "{}", False, True, "lqp", 15, "{}", True), "create"
            ),
        ),
        (
            {
                "database_name": "db",
                "code": "q",
                "inputs": {"x": 1},
                "headers": {"h": "v"},
                "nowait_durable": False,
                "timeout_mins": 3,
            },
            15,
            False,
            SqlQuery(
                V2_TIMEOUT,
                ("db", "eng", "q", '{"x":1}', True, False, "rel", 3, '{"h":"v"}', False),
                "create",
            ),
        ),
        (
            {"dbname": "db", "query": "q", "v1_inputs": {"a": "b"}, "inputs": {"ignored": 1}},
            None,
            False,
            SqlQuery(V2, ("db", "eng", "q", '{"a":"b"}', True, True, "rel", "{}", False), "create"),
        ),
    ],
)
def test_create_transaction(
    payload: dict[str, Any], timeout: int | None, abort: bool, expected: SqlQuery
) -> None:
    assert sql.build_create(NS, LOGIC, "eng", payload, timeout, abort_detached=abort) == expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"query": "q"}, "dbname, database, database_name"),
        ({"dbname": "  ", "query": "q"}, "dbname"),
        ({"dbname": "db"}, "query, raw_code, code"),
        ({"dbname": "db", "code": 5}, "query"),
        ({"dbname": "db", "query": "q", "readonly": "yes"}, "readonly"),
        ({"dbname": "db", "query": "q", "nowait_durable": 1}, "nowait_durable"),
        ({"dbname": "db", "query": "q", "language": None}, "language"),
        ({"dbname": "db", "query": "q", "timeout_mins": "5"}, "timeout_mins"),
        ({"dbname": "db", "query": "q", "inputs": {"x": float("inf")}}, "JSON"),
        ({"dbname": "db", "query": "q", "headers": {"x": object()}}, "JSON"),
    ],
)
def test_create_transaction_checks_the_payload(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(JobInvalidRequestError, match=message):
        sql.build_create(NS, LOGIC, "eng", payload, None, abort_detached=False)


@pytest.mark.parametrize("kind", [PREDICTIVE, PRESCRIPTIVE])
def test_create_job_rejects_unencodable_payloads(kind: ReasonerType) -> None:
    with pytest.raises(JobInvalidRequestError, match="JSON"):
        sql.build_create(NS, kind, "w", {"x": {1, 2}}, None, abort_detached=False)


@pytest.mark.parametrize("kind", list(ReasonerType))
@pytest.mark.parametrize("stream", ["profile", "Progress", ""])
def test_events_only_progress(kind: ReasonerType, stream: str) -> None:
    with pytest.raises(JobInvalidRequestError, match="progress"):
        sql.build_events(NS, kind, "j", "", stream)


@pytest.mark.parametrize("kind", [PREDICTIVE, PRESCRIPTIVE])
def test_cancel_all_users_is_logic_only(kind: ReasonerType) -> None:
    # Refused by the call, before any statement is built.
    with pytest.raises(JobInvalidRequestError, match="Logic"):
        core.cancel(SQL, kind.value, "j", all_users=True)


def filters(**given: Any) -> ListFilters:
    arguments: dict[str, Any] = {
        "job_id": None,
        "state": None,
        "name": None,
        "created_by": None,
        "only_active": False,
        "all_users": False,
    }
    return ListFilters.of(**{**arguments, **given})


ORDER_JOBS = " ORDER BY CREATED_ON DESC"
ORDER_TXNS = " ORDER BY created_on DESC"


@pytest.mark.parametrize(
    ("kind", "given", "limit", "offset", "text", "params"),
    [
        (PREDICTIVE, {}, None, 0, JOBS + ORDER_JOBS, ("PREDICTIVE", "ML")),
        (PRESCRIPTIVE, {}, None, 0, JOBS + ORDER_JOBS, ("PRESCRIPTIVE", "SOLVER")),
        (LOGIC, {}, None, 0, TXNS + ORDER_TXNS, ()),
        (PREDICTIVE, {}, 10, 0, JOBS + ORDER_JOBS + " LIMIT ?", ("PREDICTIVE", "ML", 10)),
        (
            PREDICTIVE,
            {},
            10,
            5,
            JOBS + ORDER_JOBS + " LIMIT ? OFFSET ?",
            ("PREDICTIVE", "ML", 10, 5),
        ),
        (
            PREDICTIVE,
            {},
            None,
            5,
            JOBS + ORDER_JOBS + " LIMIT ? OFFSET ?",
            ("PREDICTIVE", "ML", None, 5),
        ),
        (LOGIC, {}, 3, 0, TXNS + ORDER_TXNS + " LIMIT ?", (3,)),
        (LOGIC, {}, 3, 4, TXNS + ORDER_TXNS + " LIMIT ? OFFSET ?", (3, 4)),
        (LOGIC, {}, None, 4, TXNS + ORDER_TXNS + " LIMIT ? OFFSET ?", (None, 4)),
        (
            PRESCRIPTIVE,
            {
                "job_id": "j1",
                "state": "running",
                "name": "Solver-A",
                "created_by": "Ada@Example.com",
                "only_active": True,
            },
            None,
            0,
            JOBS
            + " AND ID = ? AND STATE = ? AND LOWER(REASONER_NAME) = ? AND LOWER(CREATED_BY) = ?"
            + ORDER_JOBS,
            ("PRESCRIPTIVE", "SOLVER", "j1", "RUNNING", "solver-a", "ada@example.com"),
        ),
        (
            PREDICTIVE,
            {"only_active": True, "created_by": "ada", "all_users": True},
            2,
            0,
            JOBS + " AND STATE in ('CREATED','PENDING','RUNNING')" + ORDER_JOBS + " LIMIT ?",
            ("PREDICTIVE", "ML", 2),
        ),
        (
            LOGIC,
            {"only_active": True},
            None,
            0,
            TXNS + " WHERE STATE in ('CREATED','PENDING','RUNNING')" + ORDER_TXNS,
            (),
        ),
        (
            LOGIC,
            {"job_id": "t1", "state": "Completed", "name": "ENG", "created_by": "Bob"},
            1,
            0,
            TXNS
            + " WHERE ID = ? AND STATE = ? AND LOWER(engine_name) = ? AND LOWER(CREATED_BY) = ?"
            + ORDER_TXNS
            + " LIMIT ?",
            ("t1", "COMPLETED", "eng", "bob", 1),
        ),
    ],
)
def test_list(
    kind: ReasonerType,
    given: dict[str, Any],
    limit: int | None,
    offset: int,
    text: str,
    params: tuple[Any, ...],
) -> None:
    assert sql.build_list(NS, kind, filters(**given), limit, offset) == SqlQuery(
        text, params, "list"
    )
