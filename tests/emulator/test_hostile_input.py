"""Requests a careless or hostile client sends: bodies nested 100,000 deep, HEAD, encoded `/`,
bytes that are not UTF-8 or not a valid URL, framing HTTP forbids, requests after a close.

Each is answered as a clean 4xx (or a SQL error), the connection and the server carry on, and
nothing is logged as a crash. (Requests over the server's caps: test_hostile_clients.py.)
"""

from __future__ import annotations

import json
import re
import socket
from urllib.parse import quote

import pytest

from jobs_emulator import Emulator, ManualClock, serve
from jobs_emulator._clock import MANUAL_CLOCK_START
from tests.emulator.loopback_http import Http, RawConnection, read_to_end, reply_of

DEEP = "[" * 100_000


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1alpha1/jobs", DEEP),
        ("/v1alpha1/jobs", json.dumps({"job_type": "ML", "worker_name": "w", "payload": DEEP})),
        ("/v1alpha1/transactions", DEEP),
        ("/_emulator/scripts", DEEP),
        ("/queries/v1/query-request", DEEP),
        ("/session/v1/login-request", DEEP),
    ],
)
def test_a_body_nested_too_deep_is_a_bad_request(
    http: Http, caplog: pytest.LogCaptureFixture, path: str, body: str
) -> None:
    reply = http.call("POST", path, body.encode())
    assert reply.status == 400, reply.body[:200]
    assert "handler failed" not in caplog.text
    assert http.call("GET", "/v1alpha1/jobs").status == 200


def test_a_sql_argument_nested_too_deep_is_a_sql_error(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    login = http.ok("POST", "/session/v1/login-request", {"data": {"LOGIN_NAME": "x"}})
    query = {
        "sqlText": f"call {fresh_manual_emu.app}.api.EXEC_JOB_ASYNC(?, ?, PARSE_JSON(?))",
        "bindings": {
            str(n): {"type": "TEXT", "value": value} for n, value in enumerate(["ML", "w", DEEP], 1)
        },
    }
    token = login["data"]["token"]
    answer = http.ok("POST", "/queries/v1/query-request", query, headers={}, token=token)
    assert answer["success"] is False
    assert "nests too deeply" in answer["message"]


def test_head_is_answered_as_get_without_a_body_on_a_kept_connection(
    fresh_manual_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    raw = RawConnection(fresh_manual_emu)
    try:
        get = raw.request("GET", "/v1alpha1/transactions")
        head = raw.request("HEAD", "/v1alpha1/transactions")
        missing = raw.request("HEAD", "/v1alpha1/nothing")
        after = raw.request("GET", "/v1alpha1/transactions")
    finally:
        raw.close()
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-length"] == str(len(get.body))
    assert (missing.status, missing.body) == (404, b"")
    assert after.body == get.body
    assert "connection failed" not in caplog.text


def test_an_encoded_slash_stays_inside_its_segment(http: Http) -> None:
    transaction_id = http.create_transaction()
    job_id = http.create_job("ML")
    for path in (
        f"/v1alpha1/transactions/{transaction_id}%2Fevents%2Fprogress",
        f"/v1alpha1/jobs/ML/{job_id}%2Fevents%2Fprogress",
        f"/v1alpha1/jobs/ML/{job_id}%2Fcancel",
    ):
        reply = http.call("GET", path)
        assert reply.status == 404
        assert (
            "/events/progress not found" in reply.json()["message"]
            or "cancel not found" in (reply.json()["message"])
        )
    whole = http.ok("GET", f"/v1alpha1/jobs/ML/{quote(job_id, safe='')}")
    assert whole["job"]["id"] == job_id
    assert http.ok("GET", f"/v1alpha1/jobs/%4DL/{job_id}")["job"]["id"] == job_id


def _exchange(emu: Emulator, data: bytes) -> bytes:
    """Send `data` on a connection of its own; return all the server sent until it closed."""
    with socket.create_connection((emu.host, emu.port), timeout=10) as sock:
        sock.sendall(data)
        return read_to_end(sock)


def _get(target: bytes, *fields: bytes) -> bytes:
    return b"\r\n".join([b"GET " + target + b" HTTP/1.1", b"Host: e", *fields, b"", b""])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_get(b"/v1alpha1/jobs/\xff\xfe"), "bad request: Invalid char in url path"),
        (_get(b"//[x/"), "bad request: the request target is not a URL"),
        (_get(b"/v1alpha1/jobs", b"Content-Length: 1", b"Content-Length: 2"), "Duplicate"),
        (_get(b"/v1alpha1/jobs", b"Content-Length: +1"), "Invalid character in Content-Length"),
        (_get(b"/v1alpha1/jobs", b"Content-Length: " + b"9" * 30), "Content-Length overflow"),
        (
            _get(b"/v1alpha1/jobs", b"Transfer-Encoding: chunked", b"Content-Length: 1") + b"0",
            "Content-Length can't be present with Transfer-Encoding",
        ),
        (
            _get(b"/v1alpha1/jobs", b"Transfer-Encoding: chunked") + b"f" * 20 + b"\r\n",
            "Chunk size overflow",
        ),
        (b"GET /v1alpha1/jobs HTTP/1.1\nHost: e\n\n", "Expected CRLF after version"),
    ],
    ids=[
        "raw non-UTF-8 URL",
        "unclosed IPv6 authority",
        "two lengths",
        "signed length",
        "huge length",
        "length and chunked",
        "huge chunk",
        "bare LF",
    ],
)
def test_framing_http_forbids_is_a_400_and_a_close(
    fresh_manual_emu: Emulator,
    http: Http,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    message: str,
) -> None:
    reply = reply_of(_exchange(fresh_manual_emu, data))
    assert reply.status == 400
    assert message in reply.json()["message"]
    assert reply.headers["connection"] == "close"
    assert "failed" not in caplog.text
    assert http.call("GET", "/v1alpha1/jobs").status == 200


@pytest.mark.parametrize(
    ("target", "status", "answer"),
    [
        (b"/v1alpha1/jobs/ML/%ff%fe", 404, {"message": "job \ufffd\ufffd not found"}),
        (b"/v1alpha1/jobs/ML/%", 404, {"message": "job % not found"}),
        (b"/v1alpha1/jobs/ML/%zz", 404, {"message": "job %zz not found"}),
        (b"/v1alpha1/jobs?limit=%zz&x=%ff", 200, {"jobs": []}),
    ],
)
def test_bad_percent_encoding_is_taken_as_sent_or_replaced(
    fresh_manual_emu: Emulator, target: bytes, status: int, answer: object
) -> None:
    reply = reply_of(_exchange(fresh_manual_emu, _get(target, b"Connection: close")))
    assert (reply.status, reply.json()) == (status, answer)


@pytest.mark.parametrize(
    "path",
    [
        "/v1alpha1/jobs",
        "/v1alpha1/transactions",
        "/_emulator/scripts",
        "/session/v1/login-request",
        "/queries/v1/query-request",
        "/oauth/token",
    ],
)
def test_a_body_that_is_not_utf8_is_a_bad_request(
    http: Http, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    reply = http.call("POST", path, b'{"a": "\xff\xfe"}')
    assert reply.status == 400, reply.body[:200]
    assert "failed" not in caplog.text


def test_a_header_value_that_is_not_utf8_is_read_as_latin1(fresh_manual_emu: Emulator) -> None:
    data = _get(b"/v1alpha1/jobs", b"X-Odd: \xff\xfe", b"Connection: close")
    assert reply_of(_exchange(fresh_manual_emu, data)).status == 200


def test_a_body_on_a_get_is_read_as_its_body_not_as_the_next_request(
    fresh_manual_emu: Emulator,
) -> None:
    smuggled = b"POST /v1alpha1/jobs HTTP/1.1\r\nHost: e\r\nContent-Length: 2\r\n\r\n{}"
    data = _get(b"/v1alpha1/jobs", b"Content-Length: %d" % len(smuggled)) + smuggled
    data += _get(b"/v1alpha1/transactions", b"Connection: close")
    answers = _exchange(fresh_manual_emu, data)
    assert answers.count(b"HTTP/1.1 ") == 2
    assert answers.endswith(b'{"transactions": []}')


@pytest.mark.parametrize(
    "first",
    [_get(b"/v1alpha1/jobs", b"Connection: close"), b"GET /v1alpha1/jobs HTTP/1.0\r\n\r\n"],
    ids=["Connection: close", "HTTP/1.0"],
)
def test_nothing_after_a_request_that_closes_is_handled(
    fresh_manual_emu: Emulator, first: bytes
) -> None:
    body = json.dumps(Http.job_body()).encode()
    create = b"POST /v1alpha1/jobs HTTP/1.1\r\nHost: e\r\nContent-Length: %d\r\n\r\n" % len(body)
    answers = _exchange(fresh_manual_emu, first + create + body)
    assert answers.count(b"HTTP/1.1 ") == 1
    assert reply_of(answers).json() == {"jobs": []}
    assert fresh_manual_emu.engine.list_jobs() == []


# JSON text holds numbers no time can be computed from: `NaN` and `Infinity` (which Python's json
# reads), `1e400` (infinite as a float), an integer too large for a float, and 1e300 minutes (a
# finite number whose moment no timestamp can show). Each was stored, then failed every read of it.
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", pytest.param("1" + "0" * 400, id="10**400")]


@pytest.mark.parametrize("number", NOT_FINITE)
@pytest.mark.parametrize(
    ("path", "template"),
    [
        (
            "/v1alpha1/jobs",
            '{"job_type": "ML", "worker_name": "w", "payload": "{}", "timeout_mins": N}',
        ),
        (
            "/v1alpha1/jobs",
            '{"job_type": "ML", "worker_name": "w",'
            ' "payload": "{\\"emulate\\": {\\"duration_s\\": N}}"}',
        ),
        (
            "/v1alpha1/transactions",
            '{"engine_name": "e", "database": "d", "query": "q", "timeout_mins": N}',
        ),
        ("/_emulator/clock/advance", '{"seconds": N}'),
        ("/_emulator/scripts", '{"name": "w", "emulate": {"duration_s": N}}'),
    ],
)
def test_a_number_that_is_not_finite_is_a_bad_request(
    http: Http, caplog: pytest.LogCaptureFixture, path: str, template: str, number: str
) -> None:
    reply = http.call("POST", path, template.replace("N", number).encode())
    assert reply.status == 400, reply.body[:200]
    # Refused as JSON that is not JSON (`NaN`, `1e400`) or as a number that is not finite.
    assert re.search("finite|JSON", reply.json()["message"])
    # Nothing was stored that breaks a later read.
    for read in ("/v1alpha1/jobs", "/v1alpha1/transactions", "/_emulator/clock"):
        assert http.call("GET", read).status == 200
    assert "handler failed" not in caplog.text


@pytest.mark.parametrize(
    "seconds", [float("nan"), float("inf"), pytest.param(10**400, id="10**400"), 1e300]
)
def test_a_manual_clock_refuses_a_time_no_timestamp_can_show(seconds: float) -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="clock"):
        clock.advance(seconds)
    with pytest.raises(ValueError, match="clock"):
        clock.set(seconds)
    assert clock.now() == MANUAL_CLOCK_START


@pytest.mark.parametrize("ttl", [float("nan"), float("inf"), pytest.param(10**400, id="10**400")])
def test_serve_refuses_a_token_ttl_that_is_not_finite(ttl: float) -> None:
    with pytest.raises(ValueError, match="finite"), serve(token_ttl_s=ttl):
        pass


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_body_holding_a_number_json_has_not_is_a_bad_request(http: Http, number: str) -> None:
    # They were stored and echoed: a problem's `"score": NaN` came back as `NaN`, which no JSON
    # parser but Python's reads.
    emulate = f'{{"problems": [{{"type": "x", "score": {number}}}]}}'
    body = f'{{"engine_name": "e", "database": "d", "query": "q", "emulate": {emulate}}}'
    reply = http.call("POST", "/v1alpha1/transactions", body.encode())
    assert (reply.status, reply.json()) == (400, {"message": "the request body is not valid JSON"})
    assert http.call("GET", "/v1alpha1/transactions").json() == {"transactions": []}
