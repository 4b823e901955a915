"""Fault injection over loopback: delays, drops, 429/5xx bursts, stale endpoint, broken bodies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpcore
import pytest
import snowflake.connector

from jobs_emulator import STALE_ENDPOINT_MESSAGE, Emulator, Faults
from tests.emulator.loopback_http import Http, RawConnection

DROPPED = (httpcore.RemoteProtocolError, httpcore.ReadError)
"""What a client may see when the server closes mid-exchange: a clean close (the message ends
short) or a reset (the close came while unread request bytes sat in the server's buffer)."""


def test_delay_slows_the_matching_request_only(fresh_manual_emu: Emulator, http: Http) -> None:
    rule = fresh_manual_emu.faults.delay(1.0, method="GET", path="/v1alpha1/jobs")
    started = time.monotonic()
    assert http.call("GET", "/v1alpha1/jobs").status == 200
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    assert http.call("GET", "/v1alpha1/jobs").status == 200
    assert time.monotonic() - started < 1.0
    assert rule.hits == 1


def test_drop_before_the_request_is_read_makes_no_job(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    rule = fresh_manual_emu.faults.drop(before_request=True, method="POST", path="/v1alpha1/jobs")
    with pytest.raises(DROPPED):
        http.call("POST", "/v1alpha1/jobs", http.job_body())
    assert fresh_manual_emu.engine.list_jobs() == []
    assert rule.hits == 1
    http.create_job()
    assert len(fresh_manual_emu.engine.list_jobs()) == 1


def test_drop_after_the_request_is_handled_makes_the_job(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    fresh_manual_emu.faults.drop(before_request=False, method="POST")
    with pytest.raises(DROPPED):
        http.call("POST", "/v1alpha1/jobs", http.job_body())
    assert len(fresh_manual_emu.engine.list_jobs()) == 1


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 2), (503, "Wed, 21 Oct 2026 07:28:00 GMT")]
)
def test_a_burst_of_throttled_answers(
    fresh_manual_emu: Emulator, http: Http, status: int, retry_after: int | str
) -> None:
    rule = fresh_manual_emu.faults.throttle(
        status, retry_after=retry_after, times=3, path="/v1alpha1/jobs"
    )
    replies = [http.call("POST", "/v1alpha1/jobs", http.job_body()) for _ in range(4)]
    assert [r.status for r in replies] == [status, status, status, 200]
    assert all(r.headers["retry-after"] == str(retry_after) for r in replies[:3])
    assert replies[0].json()["message"]
    assert len(fresh_manual_emu.engine.list_jobs()) == 1
    assert (rule.hits, rule.exhausted) == (3, True)


def test_skip_lets_the_first_requests_through_and_times_none_is_forever(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    fresh_manual_emu.faults.respond(
        500, {"message": "boom"}, skip=2, times=None, path="/v1alpha1/jobs"
    )
    statuses = [http.call("GET", "/v1alpha1/jobs").status for _ in range(5)]
    assert statuses == [200, 200, 500, 500, 500]
    fresh_manual_emu.faults.clear()
    assert http.call("GET", "/v1alpha1/jobs").status == 200


def test_targeting_by_method_and_path(fresh_manual_emu: Emulator, http: Http) -> None:
    fresh_manual_emu.faults.throttle(429, method="post", path="/v1alpha1/transactions", times=None)
    assert http.call("GET", "/v1alpha1/transactions").status == 200
    assert http.call("POST", "/v1alpha1/jobs", http.job_body()).status == 200
    reply = http.call("POST", "/v1alpha1/transactions", http.transaction_body())
    assert reply.status == 429
    assert reply.headers["retry-after"] == "1"


def test_stale_endpoint(fresh_manual_emu: Emulator, http: Http) -> None:
    fresh_manual_emu.faults.stale_endpoint(path="/v1alpha1/")
    reply = http.call("GET", "/v1alpha1/jobs")
    assert reply.status == 404
    assert "could not find the service associated with endpoint" in reply.body.decode()
    assert STALE_ENDPOINT_MESSAGE in reply.json()["message"]
    assert http.call("GET", "/v1alpha1/jobs").status == 200


def test_lost_session_fails_sql_statements_only(fresh_manual_emu: Emulator, http: Http) -> None:
    rule = fresh_manual_emu.faults.lost_session(times=None)
    reply = http.call("POST", "/queries/v1/query-request", {"sqlText": "select 1"})
    assert reply.status == 200
    assert (reply.json()["success"], reply.json()["code"]) == (False, "390111")
    assert "Session no longer exists" in reply.json()["message"]
    assert http.call("GET", "/v1alpha1/jobs").status == 200
    assert rule.hits == 1


def test_a_lost_session_is_gone_for_good_and_only_that_one(fresh_manual_emu: Emulator) -> None:
    # As on Snowflake: one firing ends the session; every later statement on it fails the same
    # way although the rule is spent, until a new login. Another session never notices.
    statement = f"call {fresh_manual_emu.app}.api.GET_JOB(?, ?)"
    lost, other = (snowflake.connector.connect(**fresh_manual_emu.snowflake) for _ in range(2))
    try:
        rule = fresh_manual_emu.faults.lost_session()
        for _ in range(3):
            with pytest.raises(snowflake.connector.ProgrammingError) as caught:
                lost.cursor().execute(statement, ["ML", "j1"])
            assert caught.value.errno == 390111
        assert rule.hits == 1
        assert other.cursor().execute(statement, ["ML", "j1"]).fetchall() == []
    finally:
        lost.close()
        other.close()
    again = snowflake.connector.connect(**fresh_manual_emu.snowflake)
    try:
        assert again.cursor().execute(statement, ["ML", "j1"]).fetchall() == []
    finally:
        again.close()


def test_an_abort_cancels_a_held_statement_before_it_runs(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    # What the 4.x connector does when a statement's `timeout` passes: the statement, held here
    # by a delay, then fails as cancelled and never runs, as on Snowflake.
    login = {"data": {"LOGIN_NAME": "alice"}}
    token = http.ok("POST", "/session/v1/login-request", login)["data"]["token"]
    create = {
        "sqlText": f"call {fresh_manual_emu.app}.api.EXEC_JOB_ASYNC(?, ?, ?)",
        "bindings": {
            str(n): {"type": "TEXT", "value": value}
            for n, value in enumerate(["ML", "w1", '{"model": "m"}'], start=1)
        },
    }
    rule = fresh_manual_emu.faults.delay(0.5, path="/queries/v1/query-request")
    answers: list[Any] = []
    held = threading.Thread(
        target=lambda: answers.append(
            http.ok("POST", "/queries/v1/query-request?requestId=r1", create, token=token)
        )
    )
    held.start()
    other = Http(fresh_manual_emu)
    try:
        for _ in range(100):
            if rule.hits:
                break
            time.sleep(0.01)
        abort = {"sqlText": create["sqlText"], "requestId": "r1"}
        assert other.ok("POST", "/queries/v1/abort-request", abort, token=token)["success"]
    finally:
        held.join(10)
        other.close()
    (answer,) = answers
    assert (answer["success"], answer["code"], answer["data"]["sqlState"]) == (
        False,
        "000604",
        "57014",
    )
    assert fresh_manual_emu.engine.list_jobs() == []
    # The same statement, not aborted, runs.
    http.ok("POST", "/queries/v1/query-request?requestId=r2", create, token=token)
    assert len(fresh_manual_emu.engine.list_jobs()) == 1


def test_a_canned_raw_body(fresh_manual_emu: Emulator, http: Http) -> None:
    fresh_manual_emu.faults.respond(
        502, b"<html>bad gateway</html>", headers=(("Content-Type", "text/html"),)
    )
    reply = http.call("GET", "/v1alpha1/jobs")
    assert (reply.status, reply.body) == (502, b"<html>bad gateway</html>")
    assert reply.headers["content-type"] == "text/html"


def test_truncated_body(fresh_manual_emu: Emulator, http: Http) -> None:
    http.create_job()
    fresh_manual_emu.faults.truncate(method="GET")
    with pytest.raises(DROPPED):
        http.call("GET", "/v1alpha1/jobs")
    assert http.call("GET", "/v1alpha1/jobs").status == 200


def test_malformed_body(fresh_manual_emu: Emulator, http: Http) -> None:
    http.create_job()
    fresh_manual_emu.faults.malformed(path="/v1alpha1/jobs", method="GET")
    reply = http.call("GET", "/v1alpha1/jobs")
    assert reply.status == 200
    with pytest.raises(ValueError):  # noqa: PT011 - json's message varies with where it breaks
        json.loads(reply.body)


def test_close_idle_keep_alive_connection_after_n_requests(fresh_manual_emu: Emulator) -> None:
    fresh_manual_emu.faults.close_idle_after(2)
    raw = RawConnection(fresh_manual_emu)
    try:
        first = raw.request("GET", "/v1alpha1/jobs")
        second = raw.request("GET", "/v1alpha1/jobs")
        assert [first.status, second.status] == [200, 200]
        assert "connection" not in second.headers
        assert raw.closed_by_server()
    finally:
        raw.close()
    fresh_manual_emu.faults.close_idle_after(None)
    raw = RawConnection(fresh_manual_emu)
    try:
        for _ in range(5):
            assert raw.request("GET", "/v1alpha1/jobs").status == 200
    finally:
        raw.close()


def test_a_keep_alive_pool_recovers_from_idle_closes(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    fresh_manual_emu.faults.close_idle_after(1)
    for _ in range(5):
        # Let the pool see the server's close before reusing the connection (however slowly
        # the server thread gets to it on a loaded machine).
        deadline = time.monotonic() + 5
        while not all(c.has_expired() for c in http.pool.connections):
            assert time.monotonic() < deadline, "the server never closed the idle connection"
            time.sleep(0.005)
        assert http.call("GET", "/v1alpha1/jobs").status == 200


def test_faults_apply_to_the_sql_wire_paths_too(fresh_manual_emu: Emulator, http: Http) -> None:
    fresh_manual_emu.faults.throttle(503, path="/session")
    reply = http.call("POST", "/session/v1/login-request", {"data": {}})
    assert reply.status == 503


# Each of these was taken, then failed only when a request found it: the connection dropped with
# "connection failed" logged (a 204 with the default body, status 99, a str delay, a header that
# is not Latin-1), a header line injected, a rule that never fired, or a `Retry-After: nan`.
@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda faults: faults.delay(1, times=0), "times"),
        (lambda faults: faults.delay(1, times=1.5), "times"),
        (lambda faults: faults.delay(1, skip=-1), "skip"),
        (lambda faults: faults.close_idle_after(0), "requests"),
        (lambda faults: faults.delay(float("nan")), "seconds"),
        (lambda faults: faults.delay(-1), "seconds"),
        (lambda faults: faults.delay("1"), "seconds"),
        (lambda faults: faults.respond(99), "status"),
        (lambda faults: faults.respond(1000), "status"),
        (lambda faults: faults.respond(204, {"message": "x"}), "no body"),
        (lambda faults: faults.respond(200, headers=(("X-A", "b\r\nX-Injected: 1"),)), "X-A"),
        (lambda faults: faults.respond(200, headers=(("X-A", "\u20ac"),)), "X-A"),
        (lambda faults: faults.respond(200, headers=(("X A", "b"),)), "header names"),
        (lambda faults: faults.throttle(retry_after=float("nan")), "retry_after"),
        (lambda faults: faults.throttle(retry_after=-5), "retry_after"),
        (lambda faults: faults.throttle(path="v1alpha1/jobs"), "path"),
        (lambda faults: faults.throttle(method="GET /"), "method"),
        (lambda faults: faults.throttle(200), "429 or 500"),  # was a 200 "service unavailable"
        (lambda faults: faults.throttle(404), "429 or 500"),
        (lambda faults: faults.stale_endpoint(200), "400-599"),  # read as a success
        (lambda faults: faults.stale_endpoint(302), "400-599"),
        (lambda faults: faults.stale_endpoint(True), "400-599"),
        (lambda faults: faults.stale_endpoint(600), "status"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_when_made(
    make: Callable[[Faults], object], fragment: str
) -> None:
    faults = Faults()
    with pytest.raises(ValueError, match=fragment):
        make(faults)
    assert faults.take("GET", "/v1alpha1/jobs") is None


def test_a_204_or_304_answer_has_no_body(fresh_manual_emu: Emulator, http: Http) -> None:
    # `respond(204)` used to send its default body `{}`, which HTTP forbids: a dropped connection.
    fresh_manual_emu.faults.respond(204, path="/v1alpha1/jobs")
    fresh_manual_emu.faults.respond(304, path="/v1alpha1/jobs")
    replies = [http.call("GET", "/v1alpha1/jobs") for _ in range(3)]
    assert [(reply.status, reply.body) for reply in replies[:2]] == [(204, b""), (304, b"")]
    assert replies[2].status == 200


def test_a_delayed_request_takes_effect_even_if_its_client_left(fresh_manual_emu: Emulator) -> None:
    rule = fresh_manual_emu.faults.delay(0.2, method="POST", path="/v1alpha1/jobs")
    raw = RawConnection(fresh_manual_emu)
    raw.send("POST", "/v1alpha1/jobs", json.dumps(Http.job_body()).encode())
    deadline = time.monotonic() + 5
    while rule.hits < 1:
        assert time.monotonic() < deadline, "the delay never fired"
        time.sleep(0.005)
    raw.close()
    while not fresh_manual_emu.engine.list_jobs():
        assert time.monotonic() < deadline, "the delayed create never happened"
        time.sleep(0.01)
