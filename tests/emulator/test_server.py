"""The asyncio + httptools server under the APIs: keep-alive, bodies of any size, routing,
clean shutdown."""

from __future__ import annotations

import json
import re
import socket
import time

import httpcore
import pytest

from jobs_emulator import Emulator, ManualClock, serve
from jobs_emulator._faults import Respond
from jobs_emulator._messages import Request, Response
from jobs_emulator._server import Server
from tests.emulator.loopback_http import Http, RawConnection


def test_many_requests_on_one_keep_alive_connection(fresh_manual_emu: Emulator) -> None:
    raw = RawConnection(fresh_manual_emu)
    try:
        body = json.dumps(Http.job_body()).encode()
        job_id = raw.request("POST", "/v1alpha1/jobs", body).json()["id"]
        for _ in range(20):
            assert raw.request("GET", f"/v1alpha1/jobs/ML/{job_id}").status == 200
    finally:
        raw.close()


def test_a_large_body_round_trips(fresh_manual_emu: Emulator, http: Http) -> None:
    big = "x" * 8_000_000
    body = {"job_type": "ML", "worker_name": "w", "payload": json.dumps({"blob": big})}
    job_id = http.ok("POST", "/v1alpha1/jobs", body)["id"]
    job = http.ok("GET", f"/v1alpha1/jobs/ML/{job_id}")["job"]
    assert json.loads(job["payload"])["blob"] == big


def test_a_chunked_request_body(fresh_manual_emu: Emulator) -> None:
    raw = RawConnection(fresh_manual_emu)
    try:
        body = json.dumps(Http.job_body()).encode()
        raw.send("POST", "/v1alpha1/jobs", chunks=[body[:10], body[10:30], body[30:]])
        reply = raw.receive()
    finally:
        raw.close()
    assert reply.status == 200
    assert fresh_manual_emu.engine.get(reply.json()["id"]).kind == "ML"


def test_requests_reach_handlers_with_the_path_as_sent(
    fresh_manual_emu: Emulator, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Request] = []
    dispatch = Server.dispatch

    def spy(server: Server, request: Request) -> Response:
        seen.append(request)
        return dispatch(server, request)

    monkeypatch.setattr(Server, "dispatch", spy)
    http.call("PUT", "/other/a%20b?token=a%2Bb&flag=&x=1&x=2", b"raw", headers={"X-Mine": "1"})
    (request,) = seen
    assert (request.method, request.path, request.body) == ("PUT", "/other/a%20b", b"raw")
    assert request.segments("/") == ["other", "a b"]
    assert request.query == {"token": "a+b", "flag": "", "x": "2"}
    assert request.headers["x-mine"] == "1"
    assert request.port == fresh_manual_emu.port


def test_garbage_is_answered_400_and_closed(fresh_manual_emu: Emulator) -> None:
    with socket.create_connection(
        (fresh_manual_emu.host, fresh_manual_emu.port), timeout=5
    ) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"bad request" in answer


def test_a_handler_crash_is_a_500_and_the_server_lives_on(
    fresh_manual_emu: Emulator,
    http: Http,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode() -> list[object]:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(fresh_manual_emu.engine, "list_jobs", explode)
    reply = http.call("GET", "/v1alpha1/jobs")
    assert reply.status == 500
    assert "kaboom" in reply.json()["message"]
    assert "handler failed" in caplog.text
    assert http.call("GET", "/v1alpha1/transactions").status == 200


def test_a_crash_while_parsing_is_a_500_and_ends_only_its_connection(
    fresh_manual_emu: Emulator,
    http: Http,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(method: str, path: str) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(fresh_manual_emu.faults, "take", explode)
    reply = http.call("GET", "/v1alpha1/jobs")
    assert (reply.status, reply.headers["connection"]) == (500, "close")
    assert "kaboom" in reply.json()["message"]
    assert "parsing failed" in caplog.text
    monkeypatch.undo()
    assert http.call("GET", "/v1alpha1/transactions").status == 200


def test_snowflake_paths_go_to_the_sql_api(http: Http) -> None:
    for path in ["/queries/v1/abort-request", "/telemetry/send", "/session/heartbeat"]:
        assert http.call("POST", path, {}).json()["success"] is True
    login = http.call("POST", "/session/v1/login-request", {"data": {"LOGIN_NAME": "x"}})
    assert login.json()["data"]["token"]
    assert http.call("GET", "/v1alpha1/jobs").json() == {"jobs": []}
    assert http.call("POST", "/nowhere", {}).json()["code"] == "390404"


def test_shutdown_closes_open_connections_and_joins_quickly() -> None:
    with serve() as emu:
        idle = RawConnection(emu)
        busy = RawConnection(emu)
        emu.faults.delay(30, path="/v1alpha1/jobs")
        busy.send("GET", "/v1alpha1/jobs")
        assert idle.request("GET", "/v1alpha1/transactions").status == 200
        started = time.monotonic()
    try:
        assert time.monotonic() - started < 5
        assert idle.closed_by_server()
        assert busy.closed_by_server()
    finally:
        idle.close()
        busy.close()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((emu.host, emu.port), timeout=2),
    ):
        pass


def test_serve_yields_what_the_clients_need() -> None:
    clock = ManualClock(1_000_000.0)
    with serve(clock=clock, app="MY_APP", page_size=2) as emu:
        assert emu.base_url == f"http://127.0.0.1:{emu.port}"
        assert emu.snowflake["paramstyle"] == "qmark"
        assert (emu.snowflake["host"], emu.snowflake["port"]) == ("127.0.0.1", emu.port)
        assert emu.app == "MY_APP"
        assert emu.engine.clock is clock
        assert emu.engine.page_size == 2


def test_serve_refuses_a_port_in_use_and_a_bad_clock() -> None:
    with serve() as emu, pytest.raises(OSError, match="in use"), serve(port=emu.port):
        pass
    with pytest.raises(ValueError, match="clock"), serve(clock="fast"):  # type: ignore[arg-type]
        pass


def test_two_emulators_side_by_side() -> None:
    with serve(clock="manual") as one, serve(clock="manual") as two:
        assert one.port != two.port
        first, second = Http(one), Http(two)
        try:
            first.create_job()
            assert second.ok("GET", "/v1alpha1/jobs") == {"jobs": []}
        finally:
            first.close()
            second.close()


def test_pipelined_requests_are_answered_in_order(fresh_manual_emu: Emulator) -> None:
    paths = ["/v1alpha1/jobs", "/v1alpha1/nothing", "/v1alpha1/transactions"]
    heads = [f"GET {path} HTTP/1.1\r\nHost: x\r\n" for path in paths]
    wire = "\r\n".join(heads[:-1]) + "\r\n" + heads[-1] + "Connection: close\r\n\r\n"
    with socket.create_connection(
        (fresh_manual_emu.host, fresh_manual_emu.port), timeout=5
    ) as sock:
        sock.sendall(wire.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"200", b"404", b"200"]


def test_expect_100_continue_gets_a_100_before_the_body(fresh_manual_emu: Emulator) -> None:
    body = json.dumps(Http.job_body()).encode()
    head = (
        f"POST /v1alpha1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(
        (fresh_manual_emu.host, fresh_manual_emu.port), timeout=5
    ) as sock:
        sock.sendall(head.encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert len(fresh_manual_emu.engine.list_jobs()) == 1


def test_a_response_http_forbids_ends_only_its_connection(
    fresh_manual_emu: Emulator,
    http: Http,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A fault rule refuses such an answer when it is made; a handler's bug can still produce one.
    forbidden = Response(204, b"a 204 cannot have a body")
    monkeypatch.setattr(fresh_manual_emu.faults, "take", lambda method, path: Respond(forbidden))
    with pytest.raises(httpcore.RemoteProtocolError):
        http.call("GET", "/v1alpha1/jobs")
    assert "connection failed" in caplog.text
    monkeypatch.undo()
    assert http.call("GET", "/v1alpha1/jobs").status == 200
