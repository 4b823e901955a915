"""The sync, asyncio and trio clients against hostile or broken HTTP servers.

Whatever a server sends, a call ends in its answer or a documented `JobError`, within the
configured timeouts, holding at most `MAX_RESPONSE_BYTES` of a response; a connection whose
exchange did not end cleanly (an error, bytes past the response, a close announced) is closed,
never reused, and the same client serves its next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import trio
import trustme

from jobs_core import Job, JobError, JobServerError, RetryPolicy, TransportError
from jobs_transports import Timeouts
from jobs_transports._h11_blocking import BlockingPool
from jobs_transports._h11_exchange import MAX_RESPONSE_BYTES
from jobs_transports._h11_pool import H11Pool
from tests.drivers.conftest import run_scenario
from tests.drivers.hostile_server import (
    JOB_ID,
    Answer,
    Exchange,
    HostileServer,
    job_answer,
    raw,
)
from tests.drivers.reliability_fixtures import FAST_RETRY, run_async
from tests.drivers.uniform import Uniform

ONE_TRY = RetryPolicy(max_attempts=1)
LIMIT_S = 2.0
TIMEOUTS = Timeouts(connect=LIMIT_S, read=LIMIT_S, write=LIMIT_S, pool=LIMIT_S, total=5.0)
MARGIN_S = 2.0
SLACK = 16 << 20
"""More than the loopback's socket buffers hold: what a server may have sent past the point
where the client stopped reading."""


@pytest.fixture
def serve() -> Iterator[Any]:
    """`serve(*answers, **options)`: a `HostileServer` stopped at the end of the test."""
    servers: list[HostileServer] = []

    def start(*answers: Answer, **options: Any) -> HostileServer:
        servers.append(HostileServer(answers, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def two_gets(
    driver: str, server: HostileServer, *, retry: RetryPolicy = ONE_TRY, pause_s: float = 0.0
) -> tuple[Job | JobError | None, Job | None]:
    """Get a job twice on one client (`pause_s` apart); return the first outcome (its error if
    it failed) and the second job."""

    async def scenario(client: Uniform) -> tuple[Job | JobError | None, Job | None]:
        first: Job | JobError | None
        try:
            first = await client.get("Predictive", JOB_ID)
        except JobError as exc:
            first = exc
        time.sleep(pause_s)  # blocking on purpose: no event loop reads the socket meanwhile
        return first, await client.get("Predictive", JOB_ID)

    options = {"base_url": server.url, "retry": retry, "timeouts": TIMEOUTS}
    first, second = run_scenario(driver, options, scenario)
    return first, second


def assert_failed_with(outcome: object, text: str) -> TransportError:
    """The call failed with a `JobServerError` saying `text`, caused by a `TransportError`;
    return that."""
    assert isinstance(outcome, JobServerError), outcome
    assert text in str(outcome)
    assert isinstance(outcome.__cause__, TransportError)
    return outcome.__cause__


def assert_job(outcome: object, job_id: str = JOB_ID) -> None:
    assert isinstance(outcome, Job), outcome
    assert outcome.id == job_id


# -- Responses larger than the cap -------------------------------------------------------------


def endless(head: bytes, *, chunked: bool = False) -> Answer:
    def answer(exchange: Exchange) -> bool:
        exchange.stream(head, chunked=chunked)
        return False

    return answer


DECLARED = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
CLOSE_DELIMITED = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
ONE_HUGE_CHUNK = CHUNKED + b"fffffffffffff\r\n"


def test_a_declared_length_past_the_cap_is_refused_before_its_body(driver: str, serve: Any) -> None:
    server = serve(endless(DECLARED), raw(job_answer()))
    first, second = two_gets(driver, server, retry=FAST_RETRY)
    failure = assert_failed_with(first, f"{MAX_RESPONSE_BYTES} bytes")
    assert failure.too_large
    assert failure.request_sent
    assert server.requests == 2  # not retried: the same request would meet the same answer
    assert server.sent < SLACK  # the body was not read
    assert_job(second)
    assert server.accepted == 2  # the refused connection was closed


@pytest.mark.parametrize("head", [CHUNKED, ONE_HUGE_CHUNK, CLOSE_DELIMITED])
def test_a_body_growing_past_the_cap_stops_being_read(driver: str, serve: Any, head: bytes) -> None:
    server = serve(endless(head, chunked=head == CHUNKED), raw(job_answer()))
    tracemalloc.start()
    try:
        first, second = two_gets(driver, server, retry=FAST_RETRY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    failure = assert_failed_with(first, f"{MAX_RESPONSE_BYTES} bytes")
    assert failure.too_large
    assert server.requests == 2
    assert MAX_RESPONSE_BYTES < server.sent < MAX_RESPONSE_BYTES + SLACK
    assert peak < 1.3 * MAX_RESPONSE_BYTES + SLACK  # the body read so far, held once
    assert_job(second)
    assert server.accepted == 2


def test_a_body_within_the_cap_is_read_whole(driver: str, serve: Any) -> None:
    body = b'{"job": {"id": "%s", "type": "ML", "state": "CREATED", "payload": "%s"}}' % (
        JOB_ID.encode(),
        b"x" * (8 << 20),
    )
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    server = serve(raw(head + body))
    first, second = two_gets(driver, server)
    assert_job(first)
    assert_job(second)
    assert server.accepted == 1


@contextlib.contextmanager
def peak_allocated() -> Iterator[list[int]]:
    """Trace allocations in the block; the list it gives then holds the most allocated at once."""
    tracemalloc.start()
    peak: list[int] = []
    try:
        yield peak
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def test_a_large_body_within_the_cap_is_held_once(driver: str, serve: Any) -> None:
    """On the pools themselves, so that what the core makes of the body is not measured: the
    memory allocated while a response is read peaks at about its body, not twice that. Measured
    inside the event loop: `asyncio.run` itself makes the repr of what its coroutine returns."""
    size = 32 << 20
    server = serve(raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size))
    url = f"{server.url}/v1alpha1/jobs/ML/{JOB_ID}"
    if driver == "sync":
        with BlockingPool() as pool, peak_allocated() as peak:
            length = len(pool.request("GET", url).content)
    else:

        async def main() -> tuple[int, list[int]]:
            async with H11Pool() as pool:
                with peak_allocated() as peak:
                    length = len((await pool.request("GET", url)).content)
                return length, peak

        length, peak = run_async(driver, main)
    assert length == size
    assert peak[0] < 1.3 * size


# -- Bytes past the response -------------------------------------------------------------------

SECOND_ANSWER = job_answer("j-unasked")


EXTRA = {
    "a second response": SECOND_ANSWER,
    "garbage": b"garbage\r\n\r\n",
    "half a head": b"HTTP/1.1 200 OK\r\nContent-Le",
}


@pytest.mark.parametrize("extra", EXTRA.values(), ids=EXTRA.keys())
def test_bytes_after_a_response_are_never_read_as_the_next_answer(
    driver: str, serve: Any, extra: bytes
) -> None:
    server = serve(raw(job_answer() + extra), raw(job_answer("j-second")))
    first, second = two_gets(driver, server)
    assert_job(first)
    assert_job(second, "j-second")
    assert server.accepted == 2


def test_bytes_arriving_on_an_idle_connection_are_never_read_as_the_next_answer(
    driver: str, serve: Any
) -> None:
    def late(exchange: Exchange) -> bool:
        exchange.send(job_answer())
        time.sleep(0.1)
        exchange.send(SECOND_ANSWER)
        return True

    server = serve(late, raw(job_answer("j-second")))
    first, second = two_gets(driver, server, pause_s=0.5)
    assert_job(first)
    assert_job(second, "j-second")
    assert server.accepted == 2


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_over_tls_records_past_a_response_are_never_read_as_the_next_answer(
    driver: str, serve: Any, ca: trustme.CA
) -> None:
    """The answer and a second one in two TLS records of one TCP segment: the second waits in
    the TLS layer's buffers, not the socket's. On the pools themselves: the public API trusts
    only the system's certificates."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    def two_records(exchange: Exchange) -> bool:
        exchange.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        exchange.send(job_answer())
        exchange.send(SECOND_ANSWER)
        exchange.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        return True

    server = serve(two_records, raw(job_answer("j-second")), tls=server_context)
    url = f"{server.url}/v1alpha1/jobs/ML/{JOB_ID}"
    if driver == "sync":
        with BlockingPool(tls=client_context) as pool:
            bodies = [pool.request("GET", url).content for _ in range(2)]
    else:

        async def main() -> list[bytes]:
            async with H11Pool(tls=client_context) as pool:
                return [(await pool.request("GET", url)).content for _ in range(2)]

        bodies = run_async(driver, main)
    assert [json.loads(body)["job"]["id"] for body in bodies] == [JOB_ID, "j-second"]
    assert server.accepted == 2


def test_a_server_flooding_an_idle_connection_fills_no_memory(driver: str, serve: Any) -> None:
    """Bytes that come while no request reads the connection wait in the socket's buffers (an
    asyncio transport stops reading them), and the connection is not reused."""

    def flood(exchange: Exchange) -> bool:
        exchange.send(job_answer())
        time.sleep(0.1)  # the client has read the answer, and put the connection back
        exchange.stream(b"")
        return False

    server = serve(flood, raw(job_answer("j-second")))

    async def scenario(client: Uniform) -> tuple[Any, Any, int]:
        first = await client.get("Predictive", JOB_ID)
        for _ in range(50):  # the event loop, if any, runs meanwhile: up to 0.5 s
            await (trio.sleep if driver == "trio" else asyncio.sleep)(0.01)
        sent = server.sent
        return first, await client.get("Predictive", JOB_ID), sent

    options = {"base_url": server.url, "retry": ONE_TRY, "timeouts": TIMEOUTS}
    first, second, sent = run_scenario(driver, options, scenario)
    assert_job(first)
    assert_job(second, "j-second")
    assert sent < SLACK
    assert server.accepted == 2


# -- Other protocol abuse ----------------------------------------------------------------------


def endless_headers(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\n")
    for index in range(100_000):  # bounded: the client gives up long before
        exchange.send(b"X-Header-%d: value\r\n" % index)
    return False


BROKEN = {
    "headers that never end": endless_headers,
    "one header past h11's limit": raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (1 << 20)),
    "a garbage status line": raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
    "a status line without a code": raw(b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n"),
    "a status code of 4 digits": raw(b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"),
    "a bad content length": raw(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
    "two content lengths": raw(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}"
    ),
    "a bad chunk size": raw(CHUNKED + b"zz\r\n{}\r\n0\r\n\r\n"),
    "a chunk without its CRLF": raw(CHUNKED + b"2\r\n{}XX0\r\n\r\n"),
    "a close mid-body": raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{", keep=False),
    "a close mid-chunk": raw(CHUNKED + b"10\r\n{", keep=False),
    "a close before any answer": raw(b"", keep=False),
    "a switch of protocols unasked for": raw(b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n"),
    "a header name that is not a token": raw(
        b"HTTP/1.1 200 OK\r\nX-\xff\xfe: \xc3\r\nContent-Length: 2\r\n\r\n{}"
    ),
}


@pytest.mark.parametrize("answer", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_response_ends_in_a_job_error_and_the_next_call_works(
    driver: str, serve: Any, answer: Answer
) -> None:
    server = serve(answer, raw(job_answer()))
    started = time.monotonic()
    first, second = two_gets(driver, server)
    assert time.monotonic() - started < LIMIT_S + MARGIN_S
    assert_failed_with(first, "RemoteProtocolError")
    assert_job(second)
    assert server.accepted == 2


UNUSABLE_BODIES = {
    "a body that is not UTF-8": b"\xff\xfe{}",
    "a body that is not JSON": b"<html>hello</html>",
    "a job that is not an object": b'{"job": [1, 2]}',
}


@pytest.mark.parametrize("body", UNUSABLE_BODIES.values(), ids=UNUSABLE_BODIES.keys())
def test_a_whole_but_unusable_answer_ends_in_a_job_error_on_a_kept_connection(
    driver: str, serve: Any, body: bytes
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    server = serve(raw(head + body), raw(job_answer()))
    first, second = two_gets(driver, server)
    assert isinstance(first, JobServerError), first
    assert_job(second)
    assert server.accepted == 1  # the exchange itself ended cleanly


JOB_BODY = job_answer().partition(b"\r\n\r\n")[2]


def chunks(body: bytes, size: int) -> bytes:
    """Return `body` in the chunked encoding's chunks of `size` bytes (without the last one)."""
    parts = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)


WORKING = {
    "HTTP/1.0, close-delimited": (raw(CLOSE_DELIMITED + JOB_BODY, keep=False), 2),
    "HTTP/1.1, close-delimited": (raw(b"HTTP/1.1 200 OK\r\n\r\n" + JOB_BODY, keep=False), 2),
    "Connection: close": (raw(job_answer(extra_headers="Connection: close\r\n"), keep=False), 2),
    "Connection: close, left open": (raw(job_answer(extra_headers="Connection: close\r\n")), 2),
    "1xx answers first": (
        raw(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
            + job_answer()
        ),
        1,
    ),
    "chunked, in many chunks": (raw(CHUNKED + chunks(JOB_BODY, 7) + b"0\r\n\r\n"), 1),
}


@pytest.mark.parametrize(("answer", "connections"), WORKING.values(), ids=WORKING.keys())
def test_an_unusual_but_valid_response_is_read(
    driver: str, serve: Any, answer: Answer, connections: int
) -> None:
    server = serve(answer)
    first, second = two_gets(driver, server)
    assert_job(first)
    assert_job(second)
    assert server.accepted == connections


TOO_LARGE = b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"


def create_big_job(driver: str, server: HostileServer) -> Any:
    """Create a job whose payload is larger than the socket buffers hold; return the call's
    error."""

    async def scenario(client: Uniform) -> Any:
        return await client.create("Predictive", "forecaster", {"data": "x" * (8 << 20)})

    options = {"base_url": server.url, "retry": ONE_TRY, "timeouts": TIMEOUTS}
    with pytest.raises(JobServerError) as raised:
        run_scenario(driver, options, scenario)
    return raised.value


def answer_early_then_close(exchange: Exchange) -> bool:
    """Answer on reading the head, then close without reading the body (the client's writes
    then fail: the connection is reset)."""
    exchange.send(TOO_LARGE)
    return False


@pytest.mark.parametrize(
    "answer", [raw(TOO_LARGE, keep=False), answer_early_then_close], ids=["drained", "reset"]
)
def test_an_answer_before_the_request_body_was_sent_is_the_answer(
    driver: str, serve: Any, answer: Answer
) -> None:
    server = serve(answer, early=True)
    assert create_big_job(driver, server).status == 413


def test_an_early_answer_from_a_server_that_stops_reading_ends_at_the_write_timeout(
    driver: str, serve: Any
) -> None:
    def answer_and_hold(exchange: Exchange) -> bool:
        exchange.send(TOO_LARGE)
        exchange.hold()
        return False

    server = serve(answer_and_hold, early=True)
    started = time.monotonic()
    assert "WriteTimeout" in str(create_big_job(driver, server))
    assert time.monotonic() - started < LIMIT_S + MARGIN_S


def endless_informational(exchange: Exchange) -> bool:
    """Informational responses, one after another, and never the response itself."""
    exchange.stream(b"", piece=b"HTTP/1.1 102 Processing\r\n\r\n" * 1000)
    return False


def silent(exchange: Exchange) -> bool:
    exchange.hold()
    return False


@pytest.mark.parametrize("answer", [silent, endless_informational])
def test_a_server_that_never_answers_ends_at_the_read_timeout(
    driver: str, serve: Any, answer: Answer
) -> None:
    server = serve(answer)

    async def scenario(client: Uniform) -> Any:
        return await client.get("Predictive", JOB_ID)

    options = {"base_url": server.url, "retry": ONE_TRY, "timeouts": Timeouts(read=0.5)}
    started = time.monotonic()
    with pytest.raises(JobServerError, match="ReadTimeout"):
        run_scenario(driver, options, scenario)
    assert time.monotonic() - started < 0.5 + MARGIN_S
