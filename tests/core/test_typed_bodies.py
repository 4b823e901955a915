"""The fast readings of list and get bodies give what the general parsers give.

`parse_list_jobs`/`parse_get_job` read a body in the service's usual shape with msgspec's typed
decoder (`jobs_core._typed_bodies`); anything else goes to `parse_list`/`parse_get`. Whatever the
body, the jobs (or the error) must be the general path's; and `decode_json` must be `json.loads`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobs_core import HttpResponse, _json_text, _typed_bodies
from jobs_core import _http_dialect as http
from jobs_core._errors import JobError
from jobs_core._json_text import decode_json
from jobs_core._reasoners import ReasonerType
from tests.core.record_shapes import RECORDS

KINDS = st.sampled_from(list(ReasonerType))
SERVICE_JOB = {
    "id": "job-1",
    "type": "ML",
    "state": "RUNNING",
    "worker_name": "forecaster",
    "created_by": "ada@example.com",
    "created_on": "2026-01-01T00:00:00.123Z",
    "finished_at": 1767225605500,
    "duration": 5,
    "timeout_ms": 3_600_000,
    "payload": '{"a": 1}',
    "abort_reason": None,
}
SERVICE_TRANSACTION = {
    "id": "txn-1",
    "state": "COMPLETED",
    "engine_name": "eng",
    "database_name": "db",
    "read_only": False,
    "created_by": "ada@example.com",
    "created_on": "2026-01-01T00:00:00.123456",
    "finished_at": "2026-01-01T00:00:09+00:00",
    "duration": 8876,
    "abort_reason": None,
}


def outcome(read: Callable[[], object]) -> object:
    """Returns what `read` returns, or the type and message of the `JobError` it raises."""
    try:
        return read()
    except JobError as exc:
        return (type(exc).__name__, str(exc))


def answer(body: object) -> HttpResponse:
    return HttpResponse(200, (("Content-Type", "application/json"),), json.dumps(body).encode())


def list_key(kind: ReasonerType) -> str:
    return "transactions" if kind.is_logic else "jobs"


@settings(max_examples=300, deadline=None)
@given(kind=KINDS, items=st.lists(RECORDS, max_size=4), untyped=st.booleans())
@example(
    kind=ReasonerType.PREDICTIVE, items=[SERVICE_JOB, {**SERVICE_JOB, "type": ""}], untyped=True
)
@example(kind=ReasonerType.LOGIC, items=[SERVICE_TRANSACTION], untyped=True)
def test_a_list_reads_the_same_the_fast_way_and_the_general_way(
    kind: ReasonerType, items: list[dict[str, Any]], untyped: bool
) -> None:
    response = answer({list_key(kind): items})
    general = outcome(
        lambda: [record.job for record in http.parse_list(kind, response, untyped=untyped)]
    )
    assert outcome(lambda: http.parse_list_jobs(kind, response, untyped=untyped)) == general


@settings(max_examples=300, deadline=None)
@given(
    kind=KINDS,
    item=RECORDS,
    wrap=st.sampled_from(["job", "transaction", "txn", "data", None]),
    beside=st.sampled_from([{}, {"id": "outer"}, {"txn_id": None}]),
)
def test_a_get_reads_the_same_the_fast_way_and_the_general_way(
    kind: ReasonerType, item: dict[str, Any], wrap: str | None, beside: dict[str, Any]
) -> None:
    body = item if wrap is None else {wrap: item, **beside}
    response = answer(body)

    def general() -> object:
        record = http.parse_get(kind, response)
        return None if record is None else record.job

    assert outcome(lambda: http.parse_get_job(kind, response)) == outcome(general)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (ReasonerType.PREDICTIVE, {"jobs": [SERVICE_JOB] * 3}),
        (ReasonerType.LOGIC, {"transactions": [SERVICE_TRANSACTION] * 3}),
    ],
)
def test_the_service_shape_of_a_list_is_read_the_fast_way(
    kind: ReasonerType, body: dict[str, Any]
) -> None:
    """Not vacuous: what the service sends does take the fast way, to the general result."""
    encoded = json.dumps(body).encode()
    jobs = _typed_bodies.jobs_from_list(kind, encoded, untyped=True)
    assert jobs is not None
    assert len(jobs) == 3
    assert jobs == [record.job for record in http.parse_list(kind, answer(body))]


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (ReasonerType.PREDICTIVE, {"job": SERVICE_JOB}),
        (ReasonerType.PRESCRIPTIVE, {"job": SERVICE_JOB}),  # the object's own type wins
        (ReasonerType.LOGIC, {"transaction": SERVICE_TRANSACTION}),
    ],
)
def test_the_service_shape_of_a_get_is_read_the_fast_way(
    kind: ReasonerType, body: dict[str, Any]
) -> None:
    job = _typed_bodies.job_from_get(kind, json.dumps(body).encode())
    record = http.parse_get(kind, answer(body))
    assert job is not None
    assert record is not None
    assert job == record.job


def test_without_msgspec_the_general_path_gives_the_same_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core does not depend on msgspec: with neither fast decoder, calls read the same."""
    responses = [
        (ReasonerType.PREDICTIVE, answer({"jobs": [SERVICE_JOB]}), answer({"job": SERVICE_JOB})),
        (
            ReasonerType.LOGIC,
            answer({"transactions": [SERVICE_TRANSACTION]}),
            answer({"transaction": SERVICE_TRANSACTION}),
        ),
    ]
    fast = [
        (http.parse_list_jobs(k, listed), http.parse_get_job(k, got))
        for k, listed, got in responses
    ]
    monkeypatch.setattr(_typed_bodies, "_decoders", {})
    monkeypatch.setattr(_json_text, "_fast_decode", None)
    assert (
        _typed_bodies.jobs_from_list(ReasonerType.LOGIC, b'{"transactions": []}', untyped=True)
        is None
    )
    general = [
        (http.parse_list_jobs(k, listed), http.parse_get_job(k, got))
        for k, listed, got in responses
    ]
    assert general == fast


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)
# Text `json.loads` accepts and RFC 8259 does not, and text neither accepts.
ODD_TEXT = st.sampled_from(
    [
        "NaN", "[Infinity, -Infinity]", "[1e400]", '"\\ud800"', '"\\udc00\\ud800"', "\ufeff{}",
        '{"a": 1, "a": 2}', "[1,]", "", " ", "[" * 5000 + "]" * 5000, "01", "[.5]", '"\t"',
    ]
)  # fmt: skip


def decoded(text: bytes | str) -> object:
    try:
        return ("value", decode_json(text))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc))


def loaded(text: bytes | str) -> object:
    try:
        return ("value", json.loads(text))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc))


@settings(max_examples=300, deadline=None)
@given(text=JSON_VALUES.map(json.dumps) | ODD_TEXT | st.text(max_size=12))
def test_decode_json_is_json_loads(text: str) -> None:
    for form in (text, text.encode("utf-8", "surrogatepass")):
        assert repr(decoded(form)) == repr(loaded(form))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=12) | st.sampled_from(['"é"'.encode("utf-16"), b"\xff"]))
def test_decode_json_is_json_loads_on_any_bytes(data: bytes) -> None:
    assert repr(decoded(data)) == repr(loaded(data))
