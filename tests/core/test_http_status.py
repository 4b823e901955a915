"""The helpers the retry layer uses: transient statuses, Retry-After, stale endpoints."""

from __future__ import annotations

import pytest

from jobs_core import _http_dialect as http
from jobs_core._effects import HttpResponse


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        *[(200, False), (400, False), (404, False), (428, False), (429, True), (499, False)],
        *[(500, True), (502, True), (503, True), (599, True), (600, False)],
    ],
)
def test_transient(status: int, transient: bool) -> None:
    assert http.is_transient_status(status) is transient


DATE = ("Date", "Wed, 21 Oct 2015 07:28:00 GMT")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), None),
        ((("Retry-After", "3"),), 3.0),
        ((("retry-after", " 1.5 "),), 1.5),
        ((("Retry-After", "0"),), 0.0),
        ((("Retry-After", "-1"),), None),
        ((("Retry-After", "nan"),), None),
        ((("Retry-After", "inf"),), None),
        ((("Retry-After", "soon"),), None),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"), DATE), 30.0),
        ((DATE, ("Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT")), 0.0),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"),), None),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"), ("Date", "garbage")), None),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 -0000"), DATE), None),
    ],
)
def test_retry_after(headers: tuple[tuple[str, str], ...], expected: float | None) -> None:
    assert http.retry_after_s(HttpResponse(429, headers)) == expected


@pytest.mark.parametrize(
    ("text", "stale"),
    [
        ("Could not find the service associated with endpoint abc.example", True),
        ("could not  find the SERVICE\nassociated with endpoint x", True),
        ("[Errno -2] Name or service not known", True),
        ("[Errno 8] nodename nor servname provided, or not known", True),
        ("[Errno 11001] getaddrinfo failed", True),
        ("[Errno -3] Temporary failure in name resolution", True),
        ("connection refused", False),
        ("", False),
    ],
)
def test_stale_endpoint(text: str, stale: bool) -> None:
    assert http.is_stale_endpoint(text) is stale


def test_stale_endpoint_in_a_json_body() -> None:
    response = HttpResponse(
        404, (), b'{"message": "Could not find the service associated with endpoint"}'
    )
    assert http.is_stale_endpoint(http.response_text(response))


def test_response_text() -> None:
    assert http.response_text(HttpResponse(500, (), b"  oops \xff\n")) == "oops \ufffd"
