"""The token exchange's answer, however hostile (huge or non-finite times, absurd nesting, bytes
that are not text), yields a token or a `JobError`, never another exception."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs_core import AccessToken, HttpResponse, JobError, JobServerError, parse_exchange
from jobs_core._token_exchange import jwt_claims

ASSERTION = "a.eyJpYXQiOiAxMDAwfQ.s"  # claims {"iat": 1000}

TIMES = st.one_of(
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(payload: bytes) -> str:
    return f"{_segment(b'{}')}.{_segment(payload)}.sig"


def _claims_payload(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims).encode()  # NaN and Infinity as Python's json writes them


PAYLOADS = st.one_of(
    st.dictionaries(st.sampled_from(["iat", "exp", "sub"]), TIMES, max_size=3).map(_claims_payload),
    st.integers(min_value=1, max_value=100_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.binary(max_size=40),
)
BODIES = st.one_of(
    PAYLOADS.map(lambda payload: _jwt(payload).encode()),
    st.binary(max_size=60),
    st.text(max_size=60).map(str.encode),
)


@given(status=st.sampled_from([200, 200, 200, 400, 404, 500]), body=BODIES)
def test_only_job_errors_come_out_of_parse_exchange(status: int, body: bytes) -> None:
    outcome: object
    try:
        outcome = parse_exchange(HttpResponse(status, (), body), asked_at=0.0, assertion=ASSERTION)
    except JobError as exc:
        outcome = exc
    if isinstance(outcome, JobError):
        assert len(str(outcome)) < 2000  # bounded, whatever the answer held
    else:
        assert isinstance(outcome, AccessToken)
        assert outcome.value
        assert outcome.lifetime_s is None or abs(outcome.lifetime_s) <= 2.0**54


@given(st.one_of(PAYLOADS.map(_jwt), st.text(max_size=80)))
def test_jwt_claims_gives_a_dict_or_none(token: str) -> None:
    claims = jwt_claims(token)
    assert claims is None or isinstance(claims, dict)


@pytest.mark.parametrize("exp", ["1" * 400, "1e400", "Infinity", "-Infinity", "NaN"])
def test_a_time_no_clock_reaches_is_a_bad_answer(exp: str) -> None:
    payload = f'{{"iat": 1000, "exp": {exp}}}'.encode()
    body = _jwt(payload).encode()
    with pytest.raises(JobServerError, match="exp is not a time"):
        parse_exchange(HttpResponse(200, (), body), asked_at=0.0, assertion=ASSERTION)
