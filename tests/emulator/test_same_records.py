"""The Direct Access HTTP API and the SQL API show the same store the same way.

Records are created through one API and read through both at several clock readings; after
normalising representation (ISO strings vs datetimes, `type`/`worker_name` vs
`REASONER_TYPE`/`REASONER_NAME`, JSON text vs objects) every field must match. Then one scripted
scenario runs through each API side by side and must give the same records and events.
HTTP goes through httpcore, SQL through the real Snowflake connector logged in as the Direct Access
API's default user, so both APIs see one caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpcore
import pytest
import snowflake.connector
from snowflake.connector.connection import SnowflakeConnection

from jobs_emulator import DEFAULT_USER, Emulator, serve

GET_JOB = "call {app}.api.GET_JOB(?, ?)"
LIST_JOBS = (
    "SELECT ID, REASONER_TYPE, REASONER_NAME, STATE, CREATED_BY, CREATED_ON, FINISHED_AT,"
    " DURATION, PAYLOAD, TIMEOUT_MS, ABORT_REASON FROM {app}.api.JOBS"
    " WHERE UPPER(TRIM(REASONER_TYPE)) IN (?, ?) ORDER BY CREATED_ON DESC"
)
TXN_COLUMNS = (
    "id, database_name, engine_name, state, abort_reason, read_only, created_by, created_on,"
    " finished_at, duration"
)
LIST_TXNS = f"SELECT {TXN_COLUMNS} FROM {{app}}.api.transactions ORDER BY created_on DESC"
GET_TXN = f"SELECT {TXN_COLUMNS} FROM {{app}}.api.transactions WHERE id = ? LIMIT 1"
CREATE_JOB = "call {app}.api.EXEC_JOB_ASYNC(?, ?, ?, null, ?)"
CREATE_TXN = "call {app}.api.exec_async_v2(?, ?, ?, PARSE_JSON(?), ?, ?, ?, PARSE_JSON(?), ?)"
JOB_EVENTS = "select {app}.api.GET_JOB_EVENTS(?, ?, ?)"
TXN_EVENTS = "select {app}.api.get_own_transaction_events(?, ?)"
ARTIFACTS = "call {app}.api.get_own_transaction_artifacts(?)"
PROBLEMS = "select * from table({app}.api.get_own_transaction_problems(?))"

JOB_SCRIPT = {"duration_s": 2, "events": 5, "outcome": "FAILED", "abort_reason": "infeasible"}
TXN_SCRIPT = {
    "duration_s": 1.5,
    "events": 3,
    "artifacts": ["out.csv", {"filename": "Model.json", "size": 7}],
    "problems": [{"type": "error", "message": "bad", "line": 3}, {"type": "warning"}],
}
READINGS = (0.15, 1.0, 5.0)
"""Seconds after creation at which both APIs are read: pending, running, terminal."""


class Apis:
    """Both APIs of one emulator, one caller."""

    def __init__(self, emu: Emulator, connection: SnowflakeConnection) -> None:
        self.emu = emu
        self.connection = connection

    def http(self, method: str, path: str, body: Any = None) -> Any:
        content = None if body is None else json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        response = httpcore.request(
            method, self.emu.base_url + path, headers=headers, content=content
        )
        assert response.status == 200, response.content
        return json.loads(response.content)

    def sql(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement.replace("{app}", self.emu.app), list(params))
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- creating -------------------------------------------------------------------------

    def job_over_http(self, job_type: str, script: dict[str, Any]) -> str:
        body = {
            "job_type": job_type,
            "worker_name": "w1",
            "payload": json.dumps({"emulate": script}),
            "timeout_mins": 60,
        }
        return str(self.http("POST", "/v1alpha1/jobs", body)["id"])

    def job_over_sql(self, job_type: str, script: dict[str, Any]) -> str:
        payload = json.dumps({"emulate": script})
        return str(self.sql(CREATE_JOB, job_type, "w1", payload, 60)[0]["ID"])

    def txn_over_http(self, script: dict[str, Any]) -> str:
        body = {
            "database": "db1",
            "engine_name": "e1",
            "query": "def output = 1",
            "readonly": False,
            "headers": {"emulate": script},
            "abort_detached": False,
        }
        answer = self.http("POST", "/v1alpha1/transactions?use_graph_index=false", body)
        return str(answer["transaction"]["id"])

    def txn_over_sql(self, script: dict[str, Any]) -> str:
        params = ["db1", "e1", "def output = 1", "{}", False, False, "rel"]
        return str(self.sql(CREATE_TXN, *params, json.dumps({"emulate": script}), False)[0]["ID"])

    # -- reading, normalised ----------------------------------------------------------------

    def job(self, job_type: str, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        over_http = self.http("GET", f"/v1alpha1/jobs/{job_type}/{job_id}")["job"]
        (row,) = self.sql(GET_JOB, job_type, job_id)
        return http_job(over_http), sql_row(row)

    def txn(self, txn_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        over_http = self.http("GET", f"/v1alpha1/transactions/{txn_id}")["transaction"]
        (row,) = self.sql(GET_TXN, txn_id)
        return http_record(over_http), sql_row(row)

    def jobs(self, job_type: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        over_http = self.http("GET", "/v1alpha1/jobs")["jobs"]
        rows = self.sql(LIST_JOBS, job_type, job_type)
        return [http_job(job) for job in over_http if job["type"] == job_type], [
            sql_row(row) for row in rows
        ]

    def txns(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        over_http = self.http("GET", "/v1alpha1/transactions")["transactions"]
        return [http_record(t) for t in over_http], [sql_row(row) for row in self.sql(LIST_TXNS)]

    def job_events(self, job_type: str, job_id: str) -> tuple[list[Any], list[Any]]:
        def http_page(token: str) -> Any:
            query = f"?continuation_token={quote(token)}" if token else ""
            return self.http("GET", f"/v1alpha1/jobs/{job_type}/{job_id}/events/progress{query}")

        def sql_page(token: str) -> Any:
            return json.loads(self.sql(JOB_EVENTS, job_type, job_id, token)[0].popitem()[1])

        return every_page(http_page), every_page(sql_page)

    def txn_events(self, txn_id: str) -> tuple[list[Any], list[Any]]:
        def http_page(token: str) -> Any:
            path = f"/v1alpha1/transactions/{txn_id}/events/progress"
            return self.http("GET", f"{path}?continuation_token={quote(token)}")

        def sql_page(token: str) -> Any:
            return json.loads(self.sql(TXN_EVENTS, txn_id, token)[0].popitem()[1])

        return every_page(http_page), every_page(sql_page)

    def artifacts(self, txn_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        results = self.http("GET", f"/v1alpha1/transactions/{txn_id}/artifacts")["results"]
        over_http = {a["filename"]: {k.upper(): v for k, v in a.items()} for a in results}
        rows = self.sql(ARTIFACTS, txn_id)
        over_sql = {name: json.loads(value) for name, value in rows[0].items()} if rows else {}
        return over_http, over_sql

    def problems(self, txn_id: str) -> tuple[list[Any], list[Any]]:
        problems = self.http("GET", f"/v1alpha1/transactions/{txn_id}/problems")["problems"]
        over_http = [{k.upper(): v for k, v in problem.items()} for problem in problems]
        rows = self.sql(PROBLEMS, txn_id)
        # SQL has one column per key of any problem: a key a problem lacks comes back NULL.
        return over_http, [{k: v for k, v in row.items() if v is not None} for row in rows]


def every_page(read: Any) -> list[Any]:
    """Return every page of a stream, from the start until the token is `None` or stands still."""
    pages, token = [read("")], ""
    while pages[-1]["continuation_token"] not in (None, token):
        token = pages[-1]["continuation_token"]
        pages.append(read(token))
    return pages


def http_job(job: dict[str, Any]) -> dict[str, Any]:
    renamed = {"type": "reasoner_type", "worker_name": "reasoner_name"}
    return http_record({renamed.get(key, key): value for key, value in job.items()})


def http_record(record: dict[str, Any]) -> dict[str, Any]:
    times = ("created_on", "finished_at")
    return {key: _instant(value) if key in times else value for key, value in record.items()}


def sql_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key.lower(): value for key, value in row.items()}


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def module_manual_emu() -> Iterator[Emulator]:
    with serve(clock="manual", page_size=2) as emulator:
        yield emulator


@pytest.fixture
def apis(module_manual_emu: Emulator) -> Iterator[Apis]:
    module_manual_emu.engine.reset()
    connection = snowflake.connector.connect(
        **{**module_manual_emu.snowflake, "user": DEFAULT_USER}
    )
    yield Apis(module_manual_emu, connection)
    connection.close()


def test_records_created_through_either_api_read_the_same_through_both(
    module_manual_emu: Emulator, apis: Apis
) -> None:
    jobs = [
        ("ML", apis.job_over_http("ML", JOB_SCRIPT)),
        ("SOLVER", apis.job_over_sql("SOLVER", JOB_SCRIPT)),
    ]
    txns = [apis.txn_over_http(TXN_SCRIPT), apis.txn_over_sql(TXN_SCRIPT)]
    start = module_manual_emu.engine.now()
    for reading in READINGS:
        module_manual_emu.engine.advance(start + reading - module_manual_emu.engine.now())
        for job_type, job_id in jobs:
            same(apis.job(job_type, job_id))
            same(apis.jobs(job_type))
            same(apis.job_events(job_type, job_id))
        for txn_id in txns:
            same(apis.txn(txn_id))
            same(apis.txn_events(txn_id))
            same(apis.artifacts(txn_id))
            same(apis.problems(txn_id))
        same(apis.txns())
    # The last reading is past the end: the comparisons above covered finished records too.
    assert apis.job("ML", jobs[0][1])[1]["state"] == "FAILED"
    events = [event for page in apis.job_events("ML", jobs[0][1])[1] for event in page["events"]]
    assert len(events) == 5
    assert set(apis.artifacts(txns[1])[1]) == {"out.csv", "Model.json"}
    assert len(apis.problems(txns[0])[1]) == 2


def same(pair: tuple[Any, Any]) -> None:
    over_http, over_sql = pair
    assert over_http == over_sql


@pytest.mark.parametrize("job_type", ["ML", "SOLVER", "LOGIC"])
def test_one_script_run_through_each_api_gives_the_same_record_and_events(
    module_manual_emu: Emulator, apis: Apis, job_type: str
) -> None:
    if job_type == "LOGIC":
        ids = apis.txn_over_http(TXN_SCRIPT), apis.txn_over_sql(TXN_SCRIPT)
    else:
        ids = apis.job_over_http(job_type, JOB_SCRIPT), apis.job_over_sql(job_type, JOB_SCRIPT)
    for step in (0.5, 1.0, 5.0):
        module_manual_emu.engine.advance(step)
        records, events = [], []
        # The record made over HTTP is read over HTTP, the one made over SQL over SQL.
        for side, record_id in enumerate(ids):
            if job_type == "LOGIC":
                record = apis.txn(record_id)[side]
                pages = apis.txn_events(record_id)[side]
            else:
                record = apis.job(job_type, record_id)[side]
                pages = apis.job_events(job_type, record_id)[side]
            records.append({key: value for key, value in record.items() if key != "id"})
            events.append([event for page in pages for event in page["events"]])
        assert records[0] == records[1]
        assert events[0] == events[1]
