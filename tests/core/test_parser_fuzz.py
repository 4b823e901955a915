"""Every parser, fed arbitrary replies, fails only with `JobError`s; valid shapes always parse."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs_core import _failures as failures
from jobs_core import _http_dialect as http
from jobs_core import _sql_dialect as sql
from jobs_core._effects import HttpResponse, SqlFailure, SqlRows
from jobs_core._errors import JobError
from jobs_core._reasoners import ReasonerType

UTC = dt.timezone.utc
KINDS = list(ReasonerType)
HTTP_PARSERS: list[Callable[[HttpResponse], object]] = [
    *(
        parser
        for kind in KINDS
        for parser in (
            lambda r, k=kind: http.parse_create(k, r),
            lambda r, k=kind: http.parse_get(k, r),
            lambda r, k=kind: http.parse_list(k, r),
            lambda r, k=kind: http.parse_events(k, r),
            lambda r, k=kind: http.parse_cancel(k, r),
        )
    ),
    http.parse_artifacts,
    http.parse_problems,
]
SQL_PARSERS: list[Callable[[SqlRows], object]] = [
    *(
        parser
        for kind in KINDS
        for parser in (
            lambda r, k=kind: sql.parse_create(k, r),
            lambda r, k=kind: sql.parse_get(k, r),
            lambda r, k=kind: sql.parse_list(k, r),
        )
    ),
    sql.parse_events,
    sql.parse_artifacts,
    sql.parse_problems,
]
FIELDS = [
    "id", "txn_id", "type", "state", "worker_name", "engine_name", "database_name", "created_by",
    "created_on", "finished_at", "duration", "payload", "timeout_ms", "abort_reason", "read_only",
    "events", "continuation_token", "results", "filename", "jobs", "transactions", "job",
    "transaction", "txn", "data", "result", "message", "error",
]  # fmt: skip
COLUMNS = [field.upper() for field in FIELDS] + ["REASONER_TYPE", "REASONER_NAME", "JOB_ID"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["ml", "SOLVER", "Logic", "running", "2024-05-01T12:00:00Z", "1714564800"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=30,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=60),
)
headers = st.lists(
    st.tuples(
        st.sampled_from(["Retry-After", "Date", "Content-Type"]) | st.text(max_size=5),
        st.text(max_size=40),
    ),
    max_size=3,
).map(tuple)
responses = st.builds(
    HttpResponse,
    st.sampled_from([200, 201, 204, 400, 404, 429, 500, 503]) | st.integers(0, 999),
    headers,
    bodies,
)
cells = st.one_of(
    scalars,
    st.decimals(),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.dates(),
    json_values.map(json.dumps),
)
sql_results = st.integers(0, 5).flatmap(
    lambda width: st.builds(
        SqlRows,
        st.lists(
            st.sampled_from(COLUMNS) | st.text(max_size=6), min_size=width, max_size=width
        ).map(tuple),
        st.lists(st.lists(cells, min_size=width, max_size=width + 1).map(tuple), max_size=3).map(
            tuple
        ),
    )
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(responses)
def test_http_parsers_raise_only_job_errors(response: HttpResponse) -> None:
    for parse in HTTP_PARSERS:
        with contextlib.suppress(JobError):
            parse(response)
    retry_after = failures.retry_after_s(response)
    assert retry_after is None or retry_after >= 0
    assert isinstance(failures.is_stale_endpoint(failures.response_text(response)), bool)


records = st.dictionaries(st.sampled_from(FIELDS), scalars | json_values, max_size=12)
enveloped = st.one_of(
    records,
    st.builds(
        lambda key, record: {key: record}, st.sampled_from(["job", "transaction", "data"]), records
    ),
    st.builds(
        lambda key, items: {key: items},
        st.sampled_from(["jobs", "transactions"]),
        st.lists(records, max_size=3),
    ),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(enveloped, st.sampled_from([200, 404]))
def test_http_parsers_on_record_like_bodies(body: Any, status: int) -> None:
    response = HttpResponse(status, (), json.dumps(body).encode())
    for parse in HTTP_PARSERS:
        with contextlib.suppress(JobError):
            parse(response)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(sql_results)
def test_sql_parsers_raise_only_job_errors(rows: SqlRows) -> None:
    for parse in SQL_PARSERS:
        with contextlib.suppress(JobError):
            parse(rows)


@given(st.text(), st.sampled_from(KINDS), st.booleans())
def test_failures_classify_as_job_errors(message: str, kind: ReasonerType, lost: bool) -> None:
    assert isinstance(
        failures.sql_failure_error("get", kind, SqlFailure(message, connection_lost=lost)), JobError
    )


# Valid records: every timestamp shape, every type spelling, numbers in any form.
NOON = dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
instants = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC, microsecond=d.microsecond // 1000 * 1000)
)


def shapes_of(instant: dt.datetime, *, sql_cells: bool = False) -> st.SearchStrategy[Any]:
    """Every way a backend may write `instant` (which has whole milliseconds)."""
    naive = instant.replace(tzinfo=None)
    ms = (instant - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(milliseconds=1)
    return st.sampled_from(
        [
            instant.isoformat(),
            instant.isoformat().replace("+00:00", "Z"),
            naive.isoformat(sep=" "),
            instant.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(),
            ms,
            str(ms),
            ms / 1000,
            str(decimal.Decimal(ms) / 1000),
            *([decimal.Decimal(ms) / 1000, naive, instant] if sql_cells else []),
        ]
    )


spellings = {
    ReasonerType.PREDICTIVE: st.sampled_from(
        ["ML", "ml", "Ml", "predictive", "PREDICTIVE", " Predictive "]
    ),
    ReasonerType.PRESCRIPTIVE: st.sampled_from(
        ["SOLVER", "solver", "Prescriptive", "PRESCRIPTIVE"]
    ),
}
states = st.sampled_from(
    ["created", "PENDING", "Running", "completed", "FAILED", "canceled", "aborted"]
)
numbers = st.integers(0, 10**9).flatmap(
    lambda n: st.sampled_from([n, str(n), float(n), decimal.Decimal(n)])
)


@st.composite
def job_objects(draw: st.DrawFn, kind: ReasonerType) -> tuple[dict[str, Any], dict[str, Any]]:
    created = draw(instants)
    duration: Any = draw(numbers)
    job = {
        "id": draw(st.text(min_size=1).filter(str.strip)),
        "type": draw(spellings[kind]),
        "state": draw(states),
        draw(st.sampled_from(["worker_name", "engine_name"])): "w",
        "created_on": draw(shapes_of(created)),
        "duration": duration if not isinstance(duration, decimal.Decimal) else int(duration),
        "payload": json.dumps({"k": draw(st.text())}),
    }
    return job, {"created_on": created, "duration": int(duration), "state": job["state"].upper()}


@given(
    st.sampled_from([ReasonerType.PREDICTIVE, ReasonerType.PRESCRIPTIVE]).flatmap(
        lambda kind: st.tuples(st.just(kind), job_objects(kind))
    )
)
def test_valid_http_jobs_parse(
    case: tuple[ReasonerType, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    kind, (job, expected) = case
    response = HttpResponse(200, (), json.dumps({"job": job}).encode())
    record = http.parse_get(kind, response)
    assert record is not None
    assert record.reasoner_type is kind
    assert record.job.name == "w"
    assert (record.job.created_on, record.job.duration, record.job.state) == (
        expected["created_on"],
        expected["duration"],
        expected["state"],
    )
    assert record.payload == json.loads(job["payload"])
    listed = http.parse_list(kind, HttpResponse(200, (), json.dumps({"jobs": [job]}).encode()))
    assert listed == [record]


@given(
    instants.flatmap(lambda i: st.tuples(st.just(i), shapes_of(i, sql_cells=True))), states, numbers
)
def test_valid_sql_transactions_parse(
    created: tuple[dt.datetime, Any], state: str, duration: Any
) -> None:
    instant, shape = created
    columns = ("ID", "DATABASE_NAME", "ENGINE_NAME", "STATE", "READ_ONLY", "CREATED_ON", "DURATION")
    record = sql.parse_get(
        ReasonerType.LOGIC, SqlRows(columns, (("t", "db", "e", state, True, shape, duration),))
    )
    assert record is not None
    assert (record.job.created_on, record.job.state, record.job.duration) == (
        instant,
        state.upper(),
        int(duration),
    )
