"""Error messages quote at most a bounded excerpt of what a server sent, however large.

Each case feeds one parser (of either backend) or the failure triage a 10 MB value where a
small one belongs, and checks the error's message and its whole printed traceback (chained causes
included): both must stay short.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from jobs_core import HttpResponse, JobError, ReasonerType, SqlFailure, SqlRows
from jobs_core import _failures as failures
from jobs_core import _http_dialect as http
from jobs_core import _sql_dialect as sql
from jobs_core._errors import EXCERPT_LIMIT, clip, excerpt
from tests.core.replies import JOB_COLUMNS, TXN_COLUMNS, job_json, txn_json

LOGIC, PRESCRIPTIVE, PREDICTIVE = list(ReasonerType)
SIZE = 10 * 2**20
BIG_TEXT = "x" * SIZE
# Typed Any: they stand where parsers expect text, so a checker would refuse them there.
BIG_LIST: Any = ["RUNNING"] * (SIZE // 10)
BIG_OBJECT: Any = {"nested": {"deeper": BIG_TEXT}, **{f"k{i}": i for i in range(SIZE // 20)}}
BIG_EVENTS: Any = {"events": BIG_OBJECT}
BIG_VALUES = {"text": BIG_TEXT, "list": BIG_LIST, "object": BIG_OBJECT}
MESSAGE_LIMIT = 4 * EXCERPT_LIMIT
TRACEBACK_LIMIT = 20_000


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, (), json.dumps(body).encode())


def _job_rows(**cells: Any) -> SqlRows:
    row = {**dict.fromkeys(JOB_COLUMNS), "ID": "j", "REASONER_TYPE": "ML", "STATE": "RUNNING"}
    row.update(cells)
    return SqlRows(JOB_COLUMNS, (tuple(row[c] for c in JOB_COLUMNS),))


def _txn_rows(**cells: Any) -> SqlRows:
    row = {**dict.fromkeys(TXN_COLUMNS), "ID": "t", "STATE": "RUNNING"}
    row.update(cells)
    return SqlRows(TXN_COLUMNS, (tuple(row[c] for c in TXN_COLUMNS),))


CASES: dict[str, Callable[[], object]] = {
    "http get job state": lambda: http.parse_get(
        PREDICTIVE, _json(200, {"job": job_json("j", state=BIG_LIST)})
    ),
    "http get job id": lambda: http.parse_get(
        PREDICTIVE, _json(200, {"job": job_json(BIG_OBJECT)})
    ),
    "http get transaction id": lambda: http.parse_get(LOGIC, _json(200, txn_json(BIG_LIST))),
    "http get timestamp": lambda: http.parse_get(
        LOGIC, _json(200, txn_json("t", created_on=BIG_OBJECT))
    ),
    "http list items": lambda: http.parse_list(PRESCRIPTIVE, _json(200, {"jobs": BIG_OBJECT})),
    "http list job": lambda: http.parse_list(
        PRESCRIPTIVE, _json(200, {"jobs": [job_json("j", "SOLVER", created_by=BIG_LIST)]})
    ),
    "http get job, fast way": lambda: http.parse_get_job(
        PREDICTIVE, _json(200, {"job": job_json("j", state=BIG_LIST)})
    ),
    "http list jobs, fast way": lambda: http.parse_list_jobs(
        PRESCRIPTIVE, _json(200, {"jobs": [job_json("j", "SOLVER", created_by=BIG_OBJECT)]})
    ),
    "http create": lambda: http.parse_create(PREDICTIVE, _json(200, {"id": None, "x": BIG_TEXT})),
    "http events": lambda: http.parse_events(LOGIC, _json(200, {"events": BIG_TEXT})),
    "http token": lambda: http.parse_events(LOGIC, _json(200, {"continuation_token": BIG_LIST})),
    "http artifacts": lambda: http.parse_artifacts(_json(200, {"results": BIG_OBJECT})),
    "http artifact": lambda: http.parse_artifacts(_json(200, {"results": [BIG_LIST]})),
    "http problems": lambda: http.parse_problems(_json(200, BIG_LIST)),
    "http 400": lambda: http.parse_get(LOGIC, _json(400, {"message": BIG_TEXT})),
    "http 500": lambda: http.parse_get(LOGIC, _json(500, BIG_LIST)),
    "http not json": lambda: http.parse_get(LOGIC, HttpResponse(200, (), BIG_TEXT.encode())),
    "sql get job state": lambda: sql.parse_get(PREDICTIVE, _job_rows(STATE=BIG_LIST)),
    "sql get job id": lambda: sql.parse_get(PREDICTIVE, _job_rows(ID=BIG_OBJECT)),
    "sql list transaction": lambda: sql.parse_list(LOGIC, _txn_rows(READ_ONLY=BIG_TEXT)),
    "sql list duration": lambda: sql.parse_list(PRESCRIPTIVE, _job_rows(DURATION=BIG_LIST)),
    "sql create": lambda: sql.parse_create(PREDICTIVE, SqlRows(("OTHER",), ((BIG_LIST,),))),
    "sql events": lambda: sql.parse_events(SqlRows(("E",), ((BIG_EVENTS,),))),
    "sql events text": lambda: sql.parse_events(
        SqlRows(("E",), ((f'{{"events": "{BIG_TEXT}"}}',),))
    ),
}


def _error_of(parse: Callable[[], object]) -> JobError | None:
    try:
        parse()
    except JobError as exc:
        return exc
    return None


@pytest.mark.parametrize("case", list(CASES))
def test_a_huge_server_value_gives_a_short_error(case: str) -> None:
    error = _error_of(CASES[case])
    assert error is not None
    assert len(str(error)) <= MESSAGE_LIMIT
    if case not in QUOTED_WHOLE_BY_A_CAUSE:
        assert len("".join(traceback.format_exception(error))) <= TRACEBACK_LIMIT


# The timestamp parser's own error, chained as the cause, still quotes the value whole.
QUOTED_WHOLE_BY_A_CAUSE = {"http get timestamp"}


@pytest.mark.parametrize("shape", list(BIG_VALUES))
@pytest.mark.parametrize(
    "failure",
    [
        lambda m: SqlFailure(m),
        lambda m: SqlFailure(m, errno=250001, sqlstate="08001"),
        lambda m: SqlFailure(m, errno=100357, sqlstate="02000"),
    ],
)
def test_a_huge_sql_failure_message_gives_a_short_error(
    failure: Callable[[str], SqlFailure], shape: str
) -> None:
    error = failures.sql_failure_error("get", LOGIC, failure(str(BIG_VALUES[shape])[:SIZE]))
    assert len(str(error)) <= MESSAGE_LIMIT


def test_excerpt_and_clip_are_bounded_and_keep_short_values_whole() -> None:
    assert excerpt("RUNNING") == "'RUNNING'"
    assert excerpt({"id": [1, 2]}) == "{'id': [1, 2]}"
    assert clip("short") == "short"
    for value in BIG_VALUES.values():
        assert len(excerpt(value)) <= EXCERPT_LIMIT + 3
    assert clip(BIG_TEXT) == BIG_TEXT[:EXCERPT_LIMIT] + "..."
