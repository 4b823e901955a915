"""Clients that push the server's bounds: bodies, URLs and heads over their caps, pipelining
without reading the answers, connections that hang, many connections at once.

Each over-cap request gets its refusal (a JSON `{"message"}` like every other error) and a close,
the server buffers no more than its caps, and other clients are served all along.
"""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import pytest

from jobs_emulator import Emulator
from jobs_emulator._server import (
    _READ_SIZE,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELDS,
    MAX_URL_BYTES,
    READ_AHEAD_BYTES,
    READ_AHEAD_REQUESTS,
    Connection,
)
from tests.emulator.loopback_http import Http, read_raw_response, read_to_end, reply_of

MiB = 1024 * 1024
HIGH_WATER = 64 * 1024
"""asyncio's default high-water mark of a transport's write buffer."""


@pytest.fixture(autouse=True)
def no_crash_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert "failed" not in caplog.text


class Pace(NamedTuple):
    """What a connection held when it decided whether to read on."""

    queued: int
    """Requests read and not yet answered."""
    waiting: int
    """Body bytes of those requests."""
    buffered: int
    """Bytes of answers in its write buffer."""
    paused: bool
    """Whether it stopped reading."""


@pytest.fixture
def paces(monkeypatch: pytest.MonkeyPatch) -> list[Pace]:
    """What each connection held whenever it decided whether to read on."""
    seen: list[Pace] = []
    serve = Connection._serve_queue

    def spy(connection: Connection) -> None:
        serve(connection)
        transport = connection._transport
        assert transport is not None
        seen.append(
            Pace(
                len(connection._queue),
                connection._waiting_bytes,
                transport.get_write_buffer_size(),
                connection._reading_paused,
            )
        )

    monkeypatch.setattr(Connection, "_serve_queue", spy)
    return seen


def _connect(emu: Emulator) -> socket.socket:
    return socket.create_connection((emu.host, emu.port), timeout=30)


def _refusal(emu: Emulator, head: bytes, body: Iterable[bytes] = ()) -> dict[str, object]:
    """Send `head` and every piece of `body` on a connection of their own; return the answer's
    status and message, checking the server closed after it."""
    with _connect(emu) as sock:
        sock.sendall(head)
        for piece in body:
            sock.sendall(piece)
        answer = read_to_end(sock)
    reply = reply_of(answer)
    assert reply.headers["connection"] == "close"
    assert int(reply.headers["content-length"]) == len(reply.body), "one answer, then the close"
    return {"status": reply.status, **reply.json()}


def _still_serving(emu: Emulator) -> None:
    client = Http(emu)
    try:
        assert client.call("GET", "/v1alpha1/jobs").status == 200
    finally:
        client.close()


def _big_job(worker: str, size: int) -> dict[str, str]:
    """A create-job body whose payload holds `size` bytes of the worker's name."""
    payload = json.dumps({"blob": (worker * size)[:size]})
    return {"job_type": "ML", "worker_name": worker, "payload": payload}


def _head(request_line: str, *fields: str) -> bytes:
    return "\r\n".join([request_line, "Host: emulator", *fields, "", ""]).encode("latin-1")


# -- bodies --------------------------------------------------------------------------------


def test_a_declared_body_over_the_cap_is_refused_before_it_is_sent(
    fresh_manual_emu: Emulator,
) -> None:
    head = _head("POST /v1alpha1/jobs HTTP/1.1", f"Content-Length: {MAX_BODY_BYTES + 1}")
    answer = _refusal(fresh_manual_emu, head)
    assert answer == {
        "status": 413,
        "message": f"request body too large: more than {MAX_BODY_BYTES} bytes",
    }
    assert fresh_manual_emu.engine.list_jobs() == []
    _still_serving(fresh_manual_emu)


def test_a_client_that_writes_the_whole_body_before_reading_sees_the_413(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    reply = http.call("POST", "/v1alpha1/jobs", b"x" * (MAX_BODY_BYTES + 1))
    assert reply.status == 413
    assert "too large" in reply.json()["message"]
    assert http.call("POST", "/v1alpha1/jobs", Http.job_body()).status == 200


def test_a_body_at_the_cap_is_read(fresh_manual_emu: Emulator, http: Http) -> None:
    body = json.dumps(Http.job_body()).encode()
    padded = body + b" " * (MAX_BODY_BYTES - len(body))
    assert http.call("POST", "/v1alpha1/jobs", padded).status == 200


def test_a_chunked_body_over_the_cap_is_refused_without_buffering_past_it(
    fresh_manual_emu: Emulator,
) -> None:
    piece = b"x" * MiB
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    head = _head("POST /v1alpha1/jobs HTTP/1.1", "Transfer-Encoding: chunked")
    tracemalloc.start()
    try:
        answer = _refusal(fresh_manual_emu, head, [chunk] * (2 * MAX_BODY_BYTES // MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer["status"] == 413
    # Twice the cap was sent: the server held the cap's worth, then dropped the rest.
    assert MAX_BODY_BYTES < peak < MAX_BODY_BYTES + 8 * MiB
    assert fresh_manual_emu.engine.list_jobs() == []
    _still_serving(fresh_manual_emu)


def test_a_body_in_one_byte_chunks_costs_its_bytes_not_an_object_per_chunk(
    fresh_manual_emu: Emulator,
) -> None:
    job = _big_job("w", 200_000)
    body = json.dumps(job).encode()
    wire = _head("POST /v1alpha1/jobs HTTP/1.1", "Transfer-Encoding: chunked")
    wire += b"".join(b"1\r\n%c\r\n" % byte for byte in body) + b"0\r\n\r\n"
    tracemalloc.start()
    try:
        with _connect(fresh_manual_emu) as sock:
            sock.sendall(wire)
            reply = reply_of(read_raw_response(sock)[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reply.status == 200
    assert fresh_manual_emu.engine.get(reply.json()["id"]).payload == job["payload"]
    # An object per chunk would be 40 bytes per byte of body: 8 MB.
    assert peak < 10 * len(body)


def test_expect_100_continue_with_a_body_over_the_cap_gets_the_413_instead(
    fresh_manual_emu: Emulator,
) -> None:
    head = _head(
        "POST /v1alpha1/jobs HTTP/1.1",
        "Expect: 100-continue",
        f"Content-Length: {MAX_BODY_BYTES + 1}",
    )
    with _connect(fresh_manual_emu) as sock:
        sock.sendall(head)
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")


# -- URLs and heads ------------------------------------------------------------------------


def test_a_url_over_the_cap_is_refused_and_one_at_the_cap_is_routed(
    fresh_manual_emu: Emulator,
) -> None:
    prefix = "/v1alpha1/jobs/ML/"
    at_cap = prefix + "a" * (MAX_URL_BYTES - len(prefix))
    with _connect(fresh_manual_emu) as sock:
        sock.sendall(_head(f"GET {at_cap} HTTP/1.1"))
        answer, _ = read_raw_response(sock)
    assert reply_of(answer).status == 404
    answer_over = _refusal(fresh_manual_emu, _head(f"GET {at_cap}b HTTP/1.1"))
    assert answer_over == {
        "status": 414,
        "message": f"request URL too long: more than {MAX_URL_BYTES} bytes",
    }
    _still_serving(fresh_manual_emu)


def test_a_url_sent_a_byte_at_a_time_is_refused_at_the_cap(fresh_manual_emu: Emulator) -> None:
    with _connect(fresh_manual_emu) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"GET /")
        for _ in range(MAX_URL_BYTES):
            sock.sendall(b"a")
        sock.sendall(b" HTTP/1.1\r\n\r\n")
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 414 ")


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ([f"X-{n}: v" for n in range(MAX_HEADER_FIELDS - 1)], 200),  # with Host: at the cap
        ([f"X-{n}: v" for n in range(MAX_HEADER_FIELDS)], 431),
        ([f"X: {'v' * (MAX_HEADER_BYTES - 1 - len('Hostemulator'))}"], 200),
        ([f"X: {'v' * (MAX_HEADER_BYTES - len('Hostemulator'))}"], 431),
    ],
    ids=["fields at the cap", "a field too many", "bytes at the cap", "a byte too many"],
)
def test_header_fields_and_bytes_are_capped(
    fresh_manual_emu: Emulator, fields: list[str], status: int
) -> None:
    head = _head("GET /v1alpha1/jobs HTTP/1.1", *fields)
    if status == 200:
        with _connect(fresh_manual_emu) as sock:
            sock.sendall(head)
            answer, _ = read_raw_response(sock)
        assert reply_of(answer).status == 200
    else:
        refused = _refusal(fresh_manual_emu, head)
        assert refused == {
            "status": 431,
            "message": f"request headers too large: more than {MAX_HEADER_FIELDS} fields"
            f" or {MAX_HEADER_BYTES} bytes",
        }
    _still_serving(fresh_manual_emu)


CHUNKED = _head("POST /v1alpha1/jobs HTTP/1.1", "Transfer-Encoding: chunked")


@pytest.mark.parametrize(
    "start",
    [
        b"GET / HTTP/1.1\r\nX-Endless: ",
        b"GET /",
        CHUNKED + b"2\r\n{}\r\n0\r\nX-Endless-Trailer: ",
    ],
    ids=["header", "request line", "trailer"],
)
def test_a_line_that_never_ends_is_refused(fresh_manual_emu: Emulator, start: bytes) -> None:
    endless = [b"v" * _READ_SIZE] * ((MAX_URL_BYTES + MAX_HEADER_BYTES) // _READ_SIZE + 8)
    answer = _refusal(fresh_manual_emu, start, endless)
    assert answer["status"] in {414, 431}
    assert answer["message"] in {
        "request headers too large: the head does not end",
        f"request URL too long: more than {MAX_URL_BYTES} bytes",
    }
    _still_serving(fresh_manual_emu)


def test_trailer_fields_are_read_and_count_with_the_headers(fresh_manual_emu: Emulator) -> None:
    body = json.dumps(Http.job_body()).encode()
    chunk = b"%x\r\n%s\r\n" % (len(body), body)
    trailers = b"".join(b"X-T%d: v\r\n" % n for n in range(MAX_HEADER_FIELDS - 2))
    with _connect(fresh_manual_emu) as sock:
        sock.sendall(CHUNKED + chunk + b"0\r\n" + trailers + b"\r\n")
        assert reply_of(read_raw_response(sock)[0]).status == 200
    answer = _refusal(fresh_manual_emu, CHUNKED + chunk + b"0\r\n" + trailers + b"X: 1\r\n\r\n")
    assert answer["status"] == 431


def test_a_refused_connection_lingers_only_so_long(
    fresh_manual_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobs_emulator._server.LINGER_S", 0.05)
    with _connect(fresh_manual_emu) as sock:
        sock.sendall(_head(f"GET /{'a' * MAX_URL_BYTES} HTTP/1.1"))
        assert read_to_end(sock).startswith(b"HTTP/1.1 414 ")
        # The server drops what still comes, until it closes: then a send is refused.
        refused: OSError | None = None
        for _ in range(1000):
            try:
                sock.sendall(b"more")
            except OSError as exc:
                refused = exc
                break
            time.sleep(0.01)
    assert isinstance(refused, ConnectionResetError | BrokenPipeError)


# -- pipelining ----------------------------------------------------------------------------


def test_a_client_that_pipelines_without_reading_fills_only_its_socket(
    fresh_manual_emu: Emulator, http: Http, paces: list[Pace]
) -> None:
    job_id = http.ok("POST", "/v1alpha1/jobs", _big_job("w", 100_000))["id"]
    request = _head(f"GET /v1alpha1/jobs/ML/{job_id} HTTP/1.1")
    count = 200  # 20 MB of answers: more than the sockets hold
    with _connect(fresh_manual_emu) as sock:
        sock.sendall(request * count)
        deadline = time.monotonic() + 30
        while not any(pace.paused for pace in paces):
            assert time.monotonic() < deadline, "the server never stopped reading"
            time.sleep(0.01)
        # Now the client reads: every answer comes, in order.
        buffer = b""
        sizes = set()
        for _ in range(count):
            answer, buffer = read_raw_response(sock, buffer)
            reply = reply_of(answer)
            assert reply.json()["job"]["id"] == job_id
            sizes.add(len(answer))
    (size,) = sizes
    assert max(pace.buffered for pace in paces) <= HIGH_WATER + size
    assert max(pace.queued for pace in paces) <= READ_AHEAD_REQUESTS + _READ_SIZE // len(request)


def pipeline_lookups_of_missing_jobs(emu: Emulator, requests: list[bytes]) -> None:
    """Send `requests` (the n-th looks up ``job-n``, which does not exist) at once on one
    connection, then read their answers: each must be the n-th's own, in order."""
    with _connect(emu) as sock:
        sock.sendall(b"".join(requests))
        buffer = b""
        for n in range(len(requests)):
            answer, buffer = read_raw_response(sock, buffer)
            assert reply_of(answer).json() == {"message": f"job job-{n} not found"}


def test_pipelined_requests_behind_a_delay_are_read_ahead_only_so_far(
    fresh_manual_emu: Emulator, paces: list[Pace]
) -> None:
    fresh_manual_emu.faults.delay(0.3, times=1)
    requests = [_head(f"GET /v1alpha1/jobs/ML/job-{n} HTTP/1.1") for n in range(1000)]
    pipeline_lookups_of_missing_jobs(fresh_manual_emu, requests)
    assert any(pace.paused for pace in paces), "the delay never held the reading back"
    shortest = min(len(request) for request in requests)
    assert max(pace.queued for pace in paces) <= READ_AHEAD_REQUESTS + _READ_SIZE // shortest


def test_pipelined_bodies_behind_a_delay_are_read_ahead_only_so_far(
    fresh_manual_emu: Emulator, paces: list[Pace]
) -> None:
    fresh_manual_emu.faults.delay(0.3, times=1)
    body = b"x" * 300_000
    requests = [
        _head(f"GET /v1alpha1/jobs/ML/job-{n} HTTP/1.1", f"Content-Length: {len(body)}") + body
        for n in range(12)
    ]
    pipeline_lookups_of_missing_jobs(fresh_manual_emu, requests)
    # Fewer requests than READ_AHEAD_REQUESTS held the reading back: their bodies did.
    assert any(pace.paused for pace in paces), "the delay never held the reading back"
    assert max(pace.queued for pace in paces) < READ_AHEAD_REQUESTS
    assert max(pace.waiting for pace in paces) <= READ_AHEAD_BYTES + len(body)


def test_interleaved_half_requests_on_two_connections_each_get_their_own_answer(
    fresh_manual_emu: Emulator,
) -> None:
    def create(worker: str) -> bytes:
        body = json.dumps(_big_job(worker, 50_000)).encode()
        return _head("POST /v1alpha1/jobs HTTP/1.1", f"Content-Length: {len(body)}") + body

    first, second = create("a"), create("b")
    with _connect(fresh_manual_emu) as one, _connect(fresh_manual_emu) as two:
        for start in range(0, len(first), 10_000):
            one.sendall(first[start : start + 10_000])
            two.sendall(second[start : start + 10_000])
        replies = [reply_of(read_raw_response(sock)[0]).json() for sock in (one, two)]
    for reply, worker in zip(replies, "ab", strict=True):
        job = fresh_manual_emu.engine.get(reply["id"])
        assert job.name == worker
        assert job.payload == _big_job(worker, 50_000)["payload"]


# -- connections that hang -----------------------------------------------------------------


@contextlib.contextmanager
def _file_descriptors(needed: int) -> Iterator[None]:
    """Raise the soft limit on open files to `needed` for the block, if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        yield
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_and_half_sent_connections_do_not_stop_anyone_else(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    emu = fresh_manual_emu
    body = json.dumps(Http.job_body(worker="late")).encode()
    post = _head("POST /v1alpha1/jobs HTTP/1.1", f"Content-Length: {len(body)}")
    expect = _head(
        "POST /v1alpha1/jobs HTTP/1.1", "Expect: 100-continue", f"Content-Length: {len(body)}"
    )
    get = _head("GET /v1alpha1/transactions HTTP/1.1")
    with _file_descriptors(4096), contextlib.ExitStack() as stack:
        idle = [stack.enter_context(_connect(emu)) for _ in range(500)]
        half_head, half_body, expecting = (stack.enter_context(_connect(emu)) for _ in range(3))
        half_head.sendall(get[:20])
        half_body.sendall(post + body[:10])
        expecting.sendall(expect)
        assert expecting.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"

        assert http.call("POST", "/v1alpha1/jobs", Http.job_body()).status == 200
        for sock in idle:
            sock.sendall(get)
            assert reply_of(read_raw_response(sock)[0]).status == 200
        half_head.sendall(get[20:])
        half_body.sendall(body[10:])
        expecting.sendall(body)
        replies = [reply_of(read_raw_response(s)[0]) for s in (half_head, half_body, expecting)]
    assert [reply.status for reply in replies] == [200, 200, 200]
    assert [job.name for job in emu.engine.list_jobs()].count("late") == 2
