"""Direct Access request builders: exact method, target, headers and body for each call and type."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs_core import _http_dialect as http
from jobs_core._config import USER_AGENT
from jobs_core._effects import HttpRequest
from jobs_core._errors import JobInvalidRequestError
from jobs_core._reasoners import ReasonerType

LOGIC, PRESCRIPTIVE, PREDICTIVE = (
    ReasonerType.LOGIC,
    ReasonerType.PRESCRIPTIVE,
    ReasonerType.PREDICTIVE,
)
HEADERS = (
    ("Content-Type", "application/json"),
    ("Accept", "application/json"),
    ("User-Agent", USER_AGENT),
)


def get(target: str) -> HttpRequest:
    return HttpRequest("GET", target, HEADERS, b"")


def post(target: str, body: bytes = b"") -> HttpRequest:
    return HttpRequest("POST", target, HEADERS, body)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (http.build_get(PREDICTIVE, "j-1"), get("/v1alpha1/jobs/ML/j-1")),
        (http.build_get(PRESCRIPTIVE, "j-1"), get("/v1alpha1/jobs/SOLVER/j-1")),
        (http.build_get(LOGIC, "t-1"), get("/v1alpha1/transactions/t-1")),
        (http.build_get(PREDICTIVE, "a/b c?d"), get("/v1alpha1/jobs/ML/a%2Fb%20c%3Fd")),
        (http.build_get(LOGIC, "a/b#c%"), get("/v1alpha1/transactions/a%2Fb%23c%25")),
        (http.build_list(PREDICTIVE), get("/v1alpha1/jobs")),
        (http.build_list(PRESCRIPTIVE), get("/v1alpha1/jobs")),
        (http.build_list(LOGIC), get("/v1alpha1/transactions")),
        (
            http.build_events(PREDICTIVE, "j", "", "progress"),
            get("/v1alpha1/jobs/ML/j/events/progress"),
        ),
        (
            http.build_events(PRESCRIPTIVE, "j", "tok 1", "progress"),
            get("/v1alpha1/jobs/SOLVER/j/events/progress?continuation_token=tok%201"),
        ),
        (
            http.build_events(PREDICTIVE, "j", "0", "logs/x"),
            get("/v1alpha1/jobs/ML/j/events/logs%2Fx?continuation_token=0"),
        ),
        (
            http.build_events(LOGIC, "t", "", "progress"),
            get("/v1alpha1/transactions/t/events/progress?continuation_token="),
        ),
        (
            http.build_events(LOGIC, "t", "0", "progress"),
            get("/v1alpha1/transactions/t/events/progress?continuation_token="),
        ),
        (
            http.build_events(LOGIC, "t", "a&b=c", "profile"),
            get("/v1alpha1/transactions/t/events/profile?continuation_token=a%26b%3Dc"),
        ),
        (http.build_cancel(PREDICTIVE, "j"), post("/v1alpha1/jobs/ML/j/cancel")),
        (http.build_cancel(PRESCRIPTIVE, "j"), post("/v1alpha1/jobs/SOLVER/j/cancel")),
        (http.build_cancel(LOGIC, "t/1"), post("/v1alpha1/transactions/t%2F1/cancel_async")),
        (http.build_artifacts("t 1"), get("/v1alpha1/transactions/t%201/artifacts")),
        (http.build_problems("t1"), get("/v1alpha1/transactions/t1/problems")),
    ],
)
def test_request(request_: HttpRequest, expected: HttpRequest) -> None:
    assert request_ == expected


def body_of(request: HttpRequest) -> Any:
    return json.loads(request.body)


@pytest.mark.parametrize(("kind", "job_type"), [(PREDICTIVE, "ML"), (PRESCRIPTIVE, "SOLVER")])
@pytest.mark.parametrize("abort_detached", [False, True])
def test_create_job(kind: ReasonerType, job_type: str, abort_detached: bool) -> None:
    payload = {"model": "arima", "nested": {"a": [1, 2]}}
    request = http.build_create(kind, "worker-1", payload, None, abort_detached=abort_detached)
    expected_body = (
        b'{"job_type":"' + job_type.encode() + b'","worker_name":"worker-1",'
        b'"payload":"{\\"model\\":\\"arima\\",\\"nested\\":{\\"a\\":[1,2]}}"}'
    )
    assert request == post("/v1alpha1/jobs", expected_body)
    assert json.loads(body_of(request)["payload"]) == payload


@pytest.mark.parametrize("kind", [PREDICTIVE, PRESCRIPTIVE])
def test_create_job_with_timeout(kind: ReasonerType) -> None:
    request = http.build_create(kind, "w", {}, 15, abort_detached=False)
    assert body_of(request) == {
        "job_type": kind.discriminator,
        "worker_name": "w",
        "payload": "{}",
        "timeout_mins": 15,
    }


@pytest.mark.parametrize(
    ("payload", "timeout", "abort", "expected"),
    [
        (
            {"dbname": "db", "query": "def output = 1"},
            None,
            False,
            b'{"dbname":"db","query":"def output = 1","engine_name":"eng","abort_detached":false}',
        ),
        (
            {"dbname": "db"},
            30,
            True,
            b'{"dbname":"db","engine_name":"eng","abort_detached":true,"timeout_mins":30}',
        ),
        (
            {"timeout_mins": 5, "engine_name": "other"},
            30,
            False,
            b'{"timeout_mins":5,"engine_name":"eng","abort_detached":false}',
        ),
    ],
)
def test_create_transaction(
    payload: dict[str, Any], timeout: int | None, abort: bool, expected: bytes
) -> None:
    request = http.build_create(LOGIC, "eng", payload, timeout, abort_detached=abort)
    assert request == post("/v1alpha1/transactions?use_graph_index=false", expected)


@pytest.mark.parametrize("kind", list(ReasonerType))
@pytest.mark.parametrize("payload", [{"x": float("nan")}, {"x": object()}, {"x": {1j}}])
def test_create_rejects_unencodable_payloads(kind: ReasonerType, payload: dict[str, Any]) -> None:
    with pytest.raises(JobInvalidRequestError, match="JSON"):
        http.build_create(kind, "w", payload, None, abort_detached=False)


def test_non_ascii_payload_is_escaped_ascii() -> None:
    request = http.build_create(LOGIC, "é", {"q": "naïve ✓"}, None, abort_detached=False)
    assert request.body.isascii()
    assert body_of(request) == {"q": "naïve ✓", "engine_name": "é", "abort_detached": False}


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(min_size=1) | st.sampled_from(["01b2c3d4-0000-4000-8000-000000000001", "a~b_c.d"])
)
def test_a_path_segment_is_what_quote_makes_of_it(value: str) -> None:
    """Ids made only of unreserved characters skip `quote`, which would leave them as they are."""
    if value in (".", ".."):
        return
    expected = quote(value, safe="")
    assert http._job_path(ReasonerType.LOGIC, value) == f"/v1alpha1/transactions/{expected}"
