"""Calls with a deadline (`wait`, `create_ready`): every request carries it, no sleep passes it,
a wait rides out transient failures until it, and the timeout names the last failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    ClientConfig,
    Gather,
    HttpRequest,
    HttpResponse,
    JobError,
    JobServerError,
    JobTimeoutError,
    Now,
    Sleep,
    SqlFailure,
    SqlQuery,
    SqlRows,
    TransportError,
)
from tests.core.replies import HTTP, SQL, job_json, job_row, ok, response, txn_json, txn_row

Answer = Callable[[HttpRequest | SqlQuery, float], Any]


class Clock:
    """Runs a protocol on simulated time: only `Sleep` moves the clock; `answer` serves I/O."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.now = 0.0
        self.sleeps: list[float] = []
        self.requests: list[HttpRequest | SqlQuery] = []

    def run(self, protocol: core.Protocol[Any]) -> Any:
        try:
            effect = next(protocol)
            for _ in range(10_000):
                reply = self._reply(effect)
                if isinstance(reply, BaseException):
                    effect = protocol.throw(reply)
                else:
                    effect = protocol.send(reply)
            raise AssertionError("the protocol never ended")
        except StopIteration as stop:
            return stop.value

    def _reply(self, effect: Any) -> Any:
        if isinstance(effect, Now):
            return self.now
        if isinstance(effect, Sleep):
            assert effect.seconds >= 0
            self.sleeps.append(effect.seconds)
            self.now += effect.seconds
            return None
        if isinstance(effect, Gather):
            results: list[Any] = []
            for child in effect.protocols:
                try:
                    results.append(self.run(child))
                except Exception as exc:
                    results.append(exc)
            return results
        assert isinstance(effect, HttpRequest | SqlQuery), effect
        self.requests.append(effect)
        return self.answer(effect, self.now)


def _http_job(state: str) -> HttpResponse:
    return ok(txn_json("t1", state=state))


def _storm(status: int, retry_after: str | None = None) -> HttpResponse:
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return response(status, {"message": "slow down"}, headers)


# --- every request carries the deadline ---------------------------------------------------------


@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
def test_wait_and_its_expansions_send_every_request_with_the_deadline(config: ClientConfig) -> None:
    polls = iter(["RUNNING", "COMPLETED"])

    def answer(effect: HttpRequest | SqlQuery, now: float) -> Any:
        if isinstance(effect, SqlQuery):
            if effect.operation == "get":
                return txn_row("t1", state=next(polls))
            return SqlRows(("V",), ((None,),) if effect.operation == "events" else ())
        if effect.target.endswith("/t1"):
            return _http_job(next(polls))
        return ok({})

    clock = Clock(answer)
    clock.now = 100.0
    include = {"events": True, "artifacts": True, "problems": True}
    job = clock.run(core.wait(config, "Logic", "t1", timeout_s=30, include=include))
    assert job.state == "COMPLETED"
    assert len(clock.requests) == 5  # two polls, three expansions
    assert {request.deadline for request in clock.requests} == {130.0}


@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
def test_create_ready_sends_the_create_and_the_polls_with_one_deadline(
    config: ClientConfig,
) -> None:
    def answer(effect: HttpRequest | SqlQuery, now: float) -> Any:
        if isinstance(effect, HttpRequest):
            return (
                ok({"id": "j1"})
                if effect.method == "POST"
                else ok({"job": job_json("j1", state="COMPLETED")})
            )
        return (
            SqlRows(("ID",), (("j1",),))
            if effect.operation == "create"
            else job_row("j1", state="COMPLETED")
        )

    clock = Clock(answer)
    clock.now = 5.0
    job = clock.run(core.create_ready(config, "Predictive", "w", {}, timeout_s=2))
    assert job.state == "COMPLETED"
    assert [request.deadline for request in clock.requests] == [7.0, 7.0]


def test_calls_without_a_deadline_send_none() -> None:
    clock = Clock(lambda effect, now: _http_job("RUNNING"))
    clock.run(core.get(HTTP, "Logic", "t1"))
    assert clock.requests[0].deadline is None


# --- wait rides out transient failures -----------------------------------------------------------

TRANSIENT_HTTP: list[Any] = [
    _storm(429, "1"),
    _storm(500),
    _storm(503, "2"),
    TransportError("connection reset by peer", request_sent=True),
    TransportError("connection refused", request_sent=False),
    TransportError("the deadline cut the request short", request_sent=True, timeout=True),
]


def test_wait_rides_out_more_429s_than_the_retry_policy_allows() -> None:
    """Six 429s with Retry-After: 1 used to end a 600 s wait after about 4 s."""
    answers = iter([_http_job("RUNNING"), *[_storm(429, "1")] * 6, _http_job("COMPLETED")])
    clock = Clock(lambda effect, now: next(answers))
    job = clock.run(core.wait(HTTP, "Logic", "t1", timeout_s=600, poll_interval_s=0.5))
    assert job.state == "COMPLETED"
    assert clock.sleeps == [0.5, *[1.0] * 6]


@pytest.mark.parametrize("failure", TRANSIENT_HTTP, ids=repr)
def test_only_the_deadline_ends_a_wait_that_meets_transient_failures(failure: Any) -> None:
    answers = iter([_http_job("RUNNING")])
    clock = Clock(lambda effect, now: next(answers, failure))
    with pytest.raises(JobTimeoutError) as raised:
        clock.run(core.wait(HTTP, "Logic", "t1", timeout_s=60, poll_interval_s=1))
    assert clock.now == pytest.approx(60.0)
    assert len(clock.requests) > HTTP.retry.max_attempts + 1
    assert raised.value.job is not None
    assert raised.value.job.state == "RUNNING"
    expected = failure.message if isinstance(failure, TransportError) else "slow down"
    assert f"last failure: {'' if isinstance(failure, TransportError) else 'status '}" in str(
        raised.value
    )
    assert expected in str(raised.value)


def test_a_wait_over_sql_rides_out_lost_connections() -> None:
    lost = SqlFailure("connection reset", connection_lost=True)
    answers = iter([lost] * 8 + [txn_row("t1", state="COMPLETED")])
    clock = Clock(lambda effect, now: next(answers))
    job = clock.run(core.wait(SQL, "Logic", "t1", timeout_s=600))
    assert job.state == "COMPLETED"
    assert all(query.deadline == 600.0 for query in clock.requests)


@pytest.mark.parametrize(
    "failure",
    [response(403, {"message": "denied"}), SqlFailure("syntax error", connection_lost=False)],
    ids=["http-403", "sql-statement"],
)
def test_a_failure_that_is_not_transient_ends_the_wait_at_once(failure: Any) -> None:
    config = SQL if isinstance(failure, SqlFailure) else HTTP
    clock = Clock(lambda effect, now: failure)
    with pytest.raises(JobError) as raised:
        clock.run(core.wait(config, "Logic", "t1", timeout_s=600))
    assert not isinstance(raised.value, JobTimeoutError)
    assert len(clock.requests) == 1
    assert clock.sleeps == []


# --- create_ready: the create phase is bounded too, and never starts a second job ----------------


def test_create_ready_in_a_429_storm_ends_at_its_deadline() -> None:
    """Four Retry-After: 30 sleeps used to hold a 2 s create_ready for two minutes."""
    clock = Clock(lambda effect, now: _storm(429, "30"))
    with pytest.raises(JobTimeoutError) as raised:
        clock.run(core.create_ready(HTTP, "Predictive", "w", {}, timeout_s=2))
    assert clock.now == pytest.approx(2.0)
    assert len(clock.requests) == 1
    assert "last failure: status 429" in str(raised.value)


@pytest.mark.parametrize(
    "failure",
    [_storm(500), _storm(503), TransportError("reset after sending", request_sent=True)],
    ids=repr,
)
def test_create_ready_never_resends_a_create_that_may_have_started_a_job(failure: Any) -> None:
    clock = Clock(lambda effect, now: failure)
    with pytest.raises(JobServerError):
        clock.run(core.create_ready(HTTP, "Predictive", "w", {}, timeout_s=600))
    assert len(clock.requests) == 1


def test_create_ready_retries_a_create_that_never_left_within_the_deadline() -> None:
    answers = iter([TransportError("refused", request_sent=False), ok({"id": "j1"})])

    def answer(effect: HttpRequest | SqlQuery, now: float) -> Any:
        return next(answers, ok({"job": job_json("j1", state="COMPLETED")}))

    clock = Clock(answer)
    job = clock.run(core.create_ready(HTTP, "Predictive", "w", {}, timeout_s=10))
    assert job.id == "j1"
    assert [r.deadline for r in clock.requests] == [10.0, 10.0, 10.0]


def test_the_last_failure_named_by_a_timeout_is_an_excerpt() -> None:
    huge = SqlFailure("x" * 1_000_000, connection_lost=True)
    clock = Clock(lambda effect, now: huge)
    with pytest.raises(JobTimeoutError) as raised:
        clock.run(core.wait(SQL, "Logic", "t1", timeout_s=5))
    assert len(str(raised.value)) < 1_000
