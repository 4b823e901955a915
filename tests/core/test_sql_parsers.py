"""SQL API result parsers and failure triage."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import pytest

from jobs_core import _failures as failures
from jobs_core import _sql_dialect as sql
from jobs_core._effects import SqlCell, SqlFailure, SqlRows
from jobs_core._errors import JobNotFoundError, JobNotReadyError, JobServerError
from jobs_core._models import JobEvents
from jobs_core._reasoners import ReasonerType
from tests.core.replies import JOB_COLUMNS, TXN_COLUMNS

LOGIC, PRESCRIPTIVE, PREDICTIVE = (
    ReasonerType.LOGIC,
    ReasonerType.PRESCRIPTIVE,
    ReasonerType.PREDICTIVE,
)
UTC = dt.timezone.utc
NAIVE = dt.datetime(2024, 5, 1, 12, 0, 0, 250000)
AWARE = dt.datetime(2024, 5, 1, 14, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def rows(columns: tuple[str, ...], *values: tuple[SqlCell, ...]) -> SqlRows:
    return SqlRows(columns, tuple(values))


JOB_ROWS = rows(
    JOB_COLUMNS,
    ("j1", "ML", "w1", "running", "ada", NAIVE, None, None, '{"a": 1}', 60000, None),
    ("j2", "predictive", "w1", "COMPLETED", "ada", AWARE, AWARE, decimal.Decimal("5000"),
     "not json", decimal.Decimal("60000.0"), None),
    ("j3", "Ml", "w2", "FAILED", "bob", "2024-05-01 11:00:00.000", 1714561205, 5000.4,
     None, None, "boom"),
)  # fmt: skip


def test_job_rows() -> None:
    records = sql.parse_list(PREDICTIVE, JOB_ROWS)
    assert [r.job.id for r in records] == ["j1", "j2", "j3"]
    assert {r.reasoner_type for r in records} == {PREDICTIVE}
    assert [r.job.state for r in records] == ["RUNNING", "COMPLETED", "FAILED"]
    j1, j2, j3 = records
    assert j1.job.created_on == NAIVE.replace(tzinfo=UTC)
    assert j1.payload == {"a": 1}
    assert j1.raw["PAYLOAD"] == '{"a": 1}'
    assert j1.timeout_ms == 60000
    assert j2.job.created_on == dt.datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC)
    assert j2.job.created_on is not None
    assert j2.job.created_on.tzinfo is UTC
    assert (j2.job.duration, j2.timeout_ms, j2.payload) == (5000, 60000, "not json")
    assert j3.job.created_on == dt.datetime(2024, 5, 1, 11, tzinfo=UTC)
    assert j3.job.finished_at == dt.datetime(2024, 5, 1, 11, 0, 5, tzinfo=UTC)
    assert (j3.job.duration, j3.job.abort_reason, j3.job.name) == (5000, "boom", "w2")
    assert j3.raw == dict(zip(JOB_COLUMNS, JOB_ROWS.rows[2], strict=True))


def test_get_takes_the_first_row() -> None:
    record = sql.parse_get(PREDICTIVE, JOB_ROWS)
    assert record is not None
    assert record.job.id == "j1"
    assert sql.parse_get(PREDICTIVE, rows(JOB_COLUMNS)) is None
    assert sql.parse_get(LOGIC, SqlRows()) is None


def test_job_row_without_type_and_lower_case_columns() -> None:
    columns = tuple(c.lower() for c in JOB_COLUMNS if c != "REASONER_TYPE")
    row: tuple[SqlCell, ...] = ("j", "w", "pending", None, None, None, None, None, None, None)
    record = sql.parse_get(PRESCRIPTIVE, rows(columns, row))
    assert record is not None
    assert (record.reasoner_type, record.job.state, record.job.name) == (
        PRESCRIPTIVE,
        "PENDING",
        "w",
    )


def test_transaction_rows() -> None:
    records = sql.parse_list(
        LOGIC,
        rows(
            TXN_COLUMNS,
            ("t1", "db", "e1", "RUNNING", None, True, "ada", NAIVE, None, None),
            ("t2", "db", "e2", "aborted", "client disconnected", 0, "bob", AWARE, AWARE, 12),
            ("t3", "db", "e2", "Completed", None, "false", "bob", 1714564800000, None, "7"),
        ),
    )
    assert [(r.job.id, r.reasoner_type, r.job.state, r.read_only) for r in records] == [
        ("t1", LOGIC, "RUNNING", True),
        ("t2", LOGIC, "ABORTED", False),
        ("t3", LOGIC, "COMPLETED", False),
    ]
    assert [(r.job.model, r.job.name) for r in records] == [
        ("db", "e1"),
        ("db", "e2"),
        ("db", "e2"),
    ]
    assert records[2].job.created_on == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert records[2].job.duration == 7
    assert records[1].job.abort_reason == "client disconnected"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("CREATED_ON", "tomorrow", "'CREATED_ON': Unparseable timestamp 'tomorrow'"),
        ("READ_ONLY", "maybe", "'READ_ONLY'"),
        ("DURATION", decimal.Decimal("NaN"), "'DURATION'"),
        ("DURATION", decimal.Decimal("sNaN"), "'DURATION'"),
        ("STATE", None, "'STATE'"),
        ("ID", "", "'ID'"),
    ],
)
def test_transaction_field_failures(column: str, value: SqlCell, message: str) -> None:
    row = dict.fromkeys(TXN_COLUMNS, None) | {"ID": "t", "STATE": "RUNNING", column: value}
    with pytest.raises(JobServerError, match=message):
        sql.parse_get(LOGIC, rows(TXN_COLUMNS, tuple(row.values())))


def test_ragged_row() -> None:
    with pytest.raises(JobServerError, match="cells for"):
        sql.parse_list(LOGIC, rows(TXN_COLUMNS, ("t1",)))


@pytest.mark.parametrize(
    ("kind", "columns", "row", "expected"),
    [
        (PREDICTIVE, ("ID",), ("j-1",), "j-1"),
        (PRESCRIPTIVE, ("JOB_ID",), ("j-2",), "j-2"),
        (PRESCRIPTIVE, ("job_id", "STATUS"), ("j-3", "ok"), "j-3"),
        (LOGIC, ("ID",), ("t-1",), "t-1"),
        (LOGIC, ("TXN_ID",), (42,), "42"),
        (LOGIC, ("ID", "TXN_ID"), (None, "t-3"), "t-3"),
    ],
)
def test_create(
    kind: ReasonerType, columns: tuple[str, ...], row: tuple[SqlCell, ...], expected: str
) -> None:
    assert sql.parse_create(kind, rows(columns, row)) == expected


@pytest.mark.parametrize(
    ("kind", "result"),
    [
        (PREDICTIVE, SqlRows()),
        (PREDICTIVE, rows(("TXN_ID",), ("x",))),
        (LOGIC, rows(("JOB_ID",), ("x",))),
        (LOGIC, rows(("ID",), ("",))),
        (LOGIC, rows(("ID",), (True,))),
        (LOGIC, rows(("ID",))),
    ],
)
def test_create_without_id(kind: ReasonerType, result: SqlRows) -> None:
    with pytest.raises(JobServerError, match="no id"):
        sql.parse_create(kind, result)


EVENTS = {"events": [{"message": "hi"}], "continuation_token": "3"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (json.dumps(EVENTS), JobEvents([{"message": "hi"}], "3")),
        (EVENTS, JobEvents([{"message": "hi"}], "3")),
        ('{"events": [], "continuation_token": null}', JobEvents([], None)),
        (None, JobEvents([], None)),
    ],
)
def test_events(cell: Any, expected: JobEvents) -> None:
    assert sql.parse_events(rows(("GET_JOB_EVENTS(?, ?, ?)",), (cell,))) == expected


@pytest.mark.parametrize(
    "result",
    [SqlRows(), rows(("X",), ("not json",)), rows(("X",), ("[1, 2]",)), rows(("X",), (5,))],
)
def test_events_unusable(result: SqlRows) -> None:
    with pytest.raises(JobServerError):
        sql.parse_events(result)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (SqlRows(), {}),
        (
            rows(("RESULTS",), (json.dumps([{"filename": "a.csv", "size": 3}]),)),
            {"a.csv": {"FILENAME": "a.csv", "SIZE": 3}},
        ),
        (
            rows(
                ("GET_OWN_TRANSACTION_ARTIFACTS",), (json.dumps({"results": [{"filename": "b"}]}),)
            ),
            {"b": {"FILENAME": "b"}},
        ),
        (
            # A driver may hand over a VARIANT already decoded, whatever `SqlCell` says.
            SqlRows(("V",), (({"b.txt": {"FILENAME": "b.txt"}},),)),  # type: ignore[arg-type]
            {"b.txt": {"FILENAME": "b.txt"}},
        ),
        (
            rows(("FILENAME", "META", "SIZE"), ("c.txt", '{"k": 1}', "12")),
            {"FILENAME": "c.txt", "META": {"k": 1}, "SIZE": "12"},
        ),
        (rows(("V",), ("text",)), {"V": "text"}),
        # The emulator's shape: one column per artifact, named by its file name (which a driver
        # may upper-case), each value the artifact's JSON with its keys upper-cased.
        (
            rows(
                ("OUTPUT.CSV", "Log.txt"),
                (
                    '{"FILENAME": "output.csv", "SIZE": 3}',
                    '{"FILENAME": "Log.txt", "URL": "u"}',
                ),
            ),
            {
                "output.csv": {"FILENAME": "output.csv", "SIZE": 3},
                "Log.txt": {"FILENAME": "Log.txt", "URL": "u"},
            },
        ),
        (rows(("out.csv",), ('{"FILENAME": "out.csv"}',)), {"out.csv": {"FILENAME": "out.csv"}}),
        (rows(("FILENAME",)), {}),
    ],
)
def test_artifacts(result: SqlRows, expected: dict[str, Any]) -> None:
    assert sql.parse_artifacts(result) == expected


def test_problems() -> None:
    result = rows(("TYPE", "MESSAGE", "IS_ERROR"), ("ic", "failed", True), ("warn", "w", False))
    assert sql.parse_problems(result) == {
        "problems": [
            {"TYPE": "ic", "MESSAGE": "failed", "IS_ERROR": True},
            {"TYPE": "warn", "MESSAGE": "w", "IS_ERROR": False},
        ]
    }
    assert sql.parse_problems(SqlRows(("TYPE",), ())) == {"problems": []}


def test_problem_cells_of_variant_columns_are_what_their_json_text_encodes() -> None:
    # The connector hands VARIANT, OBJECT and ARRAY cells over as JSON text (pretty-printed by
    # Snowflake); the HTTP API sends the same problem's values as JSON values.
    result = rows(
        ("TYPE", "PROPS", "TAGS", "MESSAGE", "COUNT"),
        ("ic", '{\n  "line": 3\n}', '[\n  "a"\n]', "not JSON: [1", 2),
    )
    assert sql.parse_problems(result) == {
        "problems": [
            {
                "TYPE": "ic",
                "PROPS": {"line": 3},
                "TAGS": ["a"],
                "MESSAGE": "not JSON: [1",
                "COUNT": 2,
            }
        ]
    }


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("Engine 'e' is not ready to accept jobs", JobNotReadyError),
        ("reasoner is NOT READY   to accept\njobs", JobNotReadyError),
        ("Job j-1 does not exist", JobNotFoundError),
        ("transaction not found: t-1", JobNotFoundError),
        (
            "SQL compilation error: Object 'APP.API.JOBS' does not exist or not authorized.",
            JobServerError,
        ),
        ("SQL compilation error: Unknown function APP.API.GET_JOB", JobServerError),
        ("Warehouse suspended", JobServerError),
    ],
)
@pytest.mark.parametrize("kind", list(ReasonerType))
def test_classify_failure(kind: ReasonerType, message: str, error: type[Exception]) -> None:
    result = failures.sql_failure_error("get", kind, SqlFailure(message, errno=1))
    assert type(result) is error
    label = "Transactions" if kind.is_logic else "Jobs"
    assert str(result) == f"{label} SQL request failed op=get. {message}"
