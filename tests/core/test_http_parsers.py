"""Direct Access response parsers, fed recorded bodies and every status rule of the protocol."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobs_core import _http_dialect as http
from jobs_core._effects import HttpResponse
from jobs_core._errors import (
    JobError,
    JobInvalidRequestError,
    JobNotFoundError,
    JobNotReadyError,
    JobServerError,
)
from jobs_core._models import JobEvents
from jobs_core._reasoners import ReasonerType

LOGIC, PRESCRIPTIVE, PREDICTIVE = (
    ReasonerType.LOGIC,
    ReasonerType.PRESCRIPTIVE,
    ReasonerType.PREDICTIVE,
)
FIXTURES = Path(__file__).parent / "fixtures"
UTC = dt.timezone.utc


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ok(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, (("Content-Type", "application/json"),), json.dumps(body).encode())


def raw(status: int, body: bytes) -> HttpResponse:
    return HttpResponse(status, (), body)


Parser = Callable[[HttpResponse], object]
# Every parser, with the 404 outcome it has: get answers None, the id-specific calls raise.
PARSERS: list[tuple[str, Parser, bool]] = [
    *(
        item
        for kind in ReasonerType
        for item in [
            (f"create-{kind.value}", lambda r, k=kind: http.parse_create(k, r), False),
            (f"get-{kind.value}", lambda r, k=kind: http.parse_get(k, r), True),
            (f"get-job-{kind.value}", lambda r, k=kind: http.parse_get_job(k, r), True),
            (f"list-{kind.value}", lambda r, k=kind: http.parse_list(k, r), False),
            (f"list-jobs-{kind.value}", lambda r, k=kind: http.parse_list_jobs(k, r), False),
            (f"events-{kind.value}", lambda r, k=kind: http.parse_events(k, r), False),
            (f"cancel-{kind.value}", lambda r, k=kind: http.parse_cancel(k, r), False),
        ]
    ),
    ("artifacts", http.parse_artifacts, False),
    ("problems", http.parse_problems, False),
]
PARSER_IDS = [name for name, _, _ in PARSERS]


def test_get_job_fixture() -> None:
    record = http.parse_get(PREDICTIVE, raw(200, fixture("job_get.json")))
    assert record is not None
    job = record.job
    assert job.reasoner_type == "Predictive"
    assert job.state == "COMPLETED"
    assert job.name == "forecaster"
    assert job.model is None
    assert job.created_on == dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert job.finished_at == dt.datetime(2024, 5, 1, 12, 10, 5, 500000, tzinfo=UTC)
    assert job.duration == 5377
    assert record.details() == {
        "model": None,
        "read_only": None,
        "payload": {"model": "arima", "horizon": 7},
        "timeout_ms": 3600000,
    }
    assert record.raw["payload"] == '{"model": "arima", "horizon": 7}'
    assert record.raw == json.loads(fixture("job_get.json"))["job"]


def test_get_transaction_fixture() -> None:
    record = http.parse_get(LOGIC, raw(200, fixture("transaction_get.json")))
    assert record is not None
    assert record.job.reasoner_type == "Logic"
    assert (record.job.id, record.job.state, record.job.name, record.job.model) == (
        "txn-42",
        "ABORTED",
        "eng-a",
        "sales",
    )
    assert record.read_only is True
    assert record.job.created_on == dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert record.job.finished_at == dt.datetime(2024, 5, 1, 12, 0, 9, tzinfo=UTC)
    assert record.job.duration == 8876
    assert record.job.abort_reason == "client disconnected"


@pytest.mark.parametrize(
    "body",
    [
        {"id": "t", "state": "RUNNING"},
        {"transaction": {"id": "t", "state": "RUNNING"}},
        {"txn": {"id": "t", "state": "RUNNING"}},
        {"data": {"id": "t", "state": "RUNNING"}},
        {"result": {"id": "t", "state": "RUNNING"}},
        {"data": {"transaction": {"txn_id": "t", "state": "RUNNING"}}},
    ],
)
def test_get_transaction_wrappers(body: dict[str, Any]) -> None:
    record = http.parse_get(LOGIC, ok(body))
    assert record is not None
    assert (record.job.id, record.job.state) == ("t", "RUNNING")


@pytest.mark.parametrize(
    ("spelling", "kind"),
    [
        ("ml", PREDICTIVE),
        ("ML", PREDICTIVE),
        ("Ml", PREDICTIVE),
        ("predictive", PREDICTIVE),
        ("  PREDICTIVE ", PREDICTIVE),
        ("solver", PRESCRIPTIVE),
        ("Solver", PRESCRIPTIVE),
        ("prescriptive", PRESCRIPTIVE),
        ("PRESCRIPTIVE", PRESCRIPTIVE),
    ],
)
def test_type_spellings(spelling: str, kind: ReasonerType) -> None:
    record = http.parse_get(kind, ok({"job": {"id": "j", "type": spelling, "state": "x"}}))
    assert record is not None
    assert record.reasoner_type is kind


@pytest.mark.parametrize("kind", [PREDICTIVE, PRESCRIPTIVE])
@pytest.mark.parametrize("job", [{}, {"type": None}, {"type": ""}])
def test_missing_type_is_the_requested_one(kind: ReasonerType, job: dict[str, Any]) -> None:
    record = http.parse_get(kind, ok({"job": {"id": "j", "state": "running", **job}}))
    assert record is not None
    assert record.reasoner_type is kind


def test_bare_job_object_and_engine_name() -> None:
    record = http.parse_get(PREDICTIVE, ok({"id": 7, "state": "pending", "engine_name": "e"}))
    assert record is not None
    assert (record.job.id, record.job.state, record.job.name) == ("7", "PENDING", "e")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("created_on", "yesterday", "'created_on': Unparseable timestamp 'yesterday'"),
        ("duration", "long", "'duration'"),
        ("type", "quantum", "'type': unknown reasoner type 'quantum'"),
        ("state", 3, "'state'"),
        ("id", None, "'id'"),
        ("timeout_ms", [1], "'timeout_ms'"),
    ],
)
def test_field_failures_name_the_field(field: str, value: Any, message: str) -> None:
    job = {"id": "j", "state": "RUNNING", field: value}
    with pytest.raises(JobServerError, match=message) as info:
        http.parse_get(PREDICTIVE, ok({"job": job}))
    assert info.value.__cause__ is not None


def test_missing_state_is_named() -> None:
    with pytest.raises(JobServerError, match="field 'state' is missing"):
        http.parse_get(LOGIC, ok({"id": "t"}))


def test_list_jobs_keeps_only_the_requested_type() -> None:
    body = fixture("jobs_list.json")
    predictive = http.parse_list(PREDICTIVE, raw(200, body))
    prescriptive = http.parse_list(PRESCRIPTIVE, raw(200, body))
    assert [r.job.id for r in predictive] == ["j1", "j4", "j5", "j6"]
    assert [r.job.id for r in prescriptive] == ["j2", "j3", "j5"]
    by_id = {r.job.id: r for r in [*predictive, *prescriptive]}
    assert by_id["j2"].job.created_on == dt.datetime(2024, 5, 1, 12, 1, tzinfo=UTC)
    assert by_id["j3"].job.created_on == dt.datetime(2024, 5, 1, 12, 2, tzinfo=UTC)
    assert by_id["j3"].job.finished_at == dt.datetime(2024, 5, 1, 12, 2, 5, 250000, tzinfo=UTC)
    assert by_id["j3"].job.duration == 5250
    assert by_id["j3"].job.name == "s2"
    assert by_id["j4"].job.created_on == dt.datetime(2024, 5, 1, 10, 3, 0, 500000, tzinfo=UTC)
    assert by_id["j5"].job.created_on is None
    assert by_id["j6"].job.created_on == dt.datetime(2024, 5, 1, 12, 4, tzinfo=UTC)
    assert by_id["j6"].payload == {"already": "decoded"}
    assert [r.job.state for r in predictive] == ["RUNNING", "FAILED", "CREATED", "CANCELED"]


def test_list_transactions() -> None:
    records = http.parse_list(LOGIC, raw(200, fixture("transactions_list.json")))
    assert [(r.job.id, r.read_only, r.job.state) for r in records] == [
        ("t1", False, "RUNNING"),
        ("t2", True, "COMPLETED"),
    ]
    bare = http.parse_list(LOGIC, ok(json.loads(fixture("transactions_list.json"))["transactions"]))
    assert bare == records


@pytest.mark.parametrize("kind", list(ReasonerType))
def test_list_null_is_empty(kind: ReasonerType) -> None:
    key = "transactions" if kind.is_logic else "jobs"
    assert http.parse_list(kind, ok({key: None})) == []
    assert http.parse_list(kind, ok([])) == []


@pytest.mark.parametrize("kind", list(ReasonerType))
def test_events(kind: ReasonerType) -> None:
    page = http.parse_events(kind, raw(200, fixture("events.json")))
    assert page.continuation_token == "2"
    assert [e["message"] for e in page.events] == ["started", "50%"]
    assert http.parse_events(kind, ok({})) == JobEvents([], None)
    assert http.parse_events(kind, ok({"events": [], "continuation_token": 5})) == JobEvents(
        [], "5"
    )


def test_artifacts_and_problems() -> None:
    assert http.parse_artifacts(raw(200, fixture("artifacts.json"))) == {
        "output.csv": {"FILENAME": "output.csv", "CONTENT_TYPE": "text/csv", "SIZE": 123},
        "log.txt": {"FILENAME": "log.txt", "URL": "https://example.invalid/log.txt"},
    }
    assert http.parse_artifacts(ok({"results": []})) == {}
    problems = json.loads(fixture("problems.json"))
    assert http.parse_problems(raw(200, fixture("problems.json"))) == problems


@pytest.mark.parametrize(
    "body",
    [
        {"id": "t-1"},
        {"txn_id": "t-1"},
        {"transaction": {"id": "t-1"}},
        {"txn": {"txn_id": "t-1"}},
        {"data": {"id": "t-1"}},
        {"result": {"id": "t-1"}},
        {"result": {"data": {"transaction": {"id": "t-1"}}}},
        {"id": None, "txn_id": "t-1"},
        {"data": "t-1"},
        "t-1",
    ],
)
def test_create_transaction_ids(body: Any) -> None:
    assert http.parse_create(LOGIC, ok(body)) == "t-1"


@pytest.mark.parametrize("kind", [PREDICTIVE, PRESCRIPTIVE])
def test_create_job_id(kind: ReasonerType) -> None:
    assert http.parse_create(kind, ok({"id": "j-1"})) == "j-1"
    assert http.parse_create(kind, ok({"id": 12}, status=201)) == "12"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (PREDICTIVE, {}),
        (PREDICTIVE, {"id": ""}),
        (PREDICTIVE, "j-1"),
        (PRESCRIPTIVE, {"data": {"id": "j"}}),
        (LOGIC, {}),
        (LOGIC, ""),
        (LOGIC, {"data": None}),
        (LOGIC, {"result": 5}),
        (LOGIC, [{"id": "t"}]),
        (LOGIC, {"id": True}),
    ],
)
def test_create_without_id(kind: ReasonerType, body: Any) -> None:
    with pytest.raises(JobServerError, match="without an id"):
        http.parse_create(kind, ok(body))


@pytest.mark.parametrize(("name", "parse", "get"), PARSERS, ids=PARSER_IDS)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"message": "payload is missing \'query\'"}', "payload is missing 'query'"),
        (b'{"error": "bad worker"}', "bad worker"),
        (b'{"error": {"message": "nested"}}', "nested"),
        (b"plain text reason", "plain text reason"),
        (b"", ""),
    ],
)
def test_400(name: str, parse: Parser, get: bool, body: bytes, message: str) -> None:
    label = "Transactions" if "Logic" in name or name in ("artifacts", "problems") else "Jobs"
    with pytest.raises(JobInvalidRequestError) as info:
        parse(raw(400, body))
    assert str(info.value) == f"{label} request failed validation. {message}"


@pytest.mark.parametrize(("name", "parse", "get"), PARSERS, ids=PARSER_IDS)
@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "engine is not ready to accept jobs"}',
        b'{"error": "Reasoner  is NOT ready\\n to accept   jobs"}',
        b'{"message": "worker is not ready to accept jobs (warming up)"}',
        b"Not Ready To Accept Jobs",
    ],
)
def test_404_not_ready(name: str, parse: Parser, get: bool, body: bytes) -> None:
    with pytest.raises(JobNotReadyError):
        parse(raw(404, body))


@pytest.mark.parametrize(("name", "parse", "get"), PARSERS, ids=PARSER_IDS)
def test_404(name: str, parse: Parser, get: bool) -> None:
    response = raw(404, b'{"message": "no such job"}')
    if get:
        assert parse(response) is None
    else:
        with pytest.raises(JobNotFoundError, match="no such job"):
            parse(response)


@pytest.mark.parametrize(("name", "parse", "get"), PARSERS, ids=PARSER_IDS)
@pytest.mark.parametrize("status", [401, 403, 409, 429, 500, 502, 503, 504, 302, 100])
def test_other_statuses(name: str, parse: Parser, get: bool, status: int) -> None:
    with pytest.raises(JobServerError) as info:
        parse(raw(status, b'{"message": "try later"}'))
    assert info.value.status == status
    assert f"request failed (status={status}) op=" in str(info.value)
    assert str(info.value).endswith("try later")


@pytest.mark.parametrize(("name", "parse", "get"), PARSERS, ids=PARSER_IDS)
@pytest.mark.parametrize("body", [b"{not json", b"<html>oops</html>", b"\xff\xfe\x00", b""])
def test_malformed_json_on_success(name: str, parse: Parser, get: bool, body: bytes) -> None:
    if name.startswith("cancel"):
        # A cancel's body is not read: any 2xx is an accepted cancel.
        assert parse(raw(200, body)) is None
        return
    with pytest.raises(JobServerError):
        parse(raw(200, body))


@pytest.mark.parametrize(("name", "parse", "get"), PARSERS, ids=PARSER_IDS)
def test_long_error_bodies_are_shortened(name: str, parse: Parser, get: bool) -> None:
    with pytest.raises(JobError) as info:
        parse(raw(502, b"x" * 10_000))
    assert len(str(info.value)) < 1_100
