"""A poll's deadline persists through the endpoint discovery and token exchange it needs: they
ride out transient failures until it, on simulated time, and a refused key still fails at once."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pytest

import jobs_core as core
from jobs_core import (
    Cassette,
    CassetteWriter,
    ClientConfig,
    Completions,
    HttpRequest,
    HttpResponse,
    JobConfigurationError,
    JobServerError,
    JobTimeoutError,
    ReasonerType,
    RefreshEndpoint,
    RenewToken,
    Replayer,
    SignAssertion,
    SqlFailure,
    SqlQuery,
    SqlRows,
    Stepper,
    TransportError,
    discover_endpoint,
    exchange_token,
)
from jobs_core._retry import Deadline, as_received, send_http
from jobs_core._serialization import effect_to_json
from tests.core.replies import job_json, ok, response
from tests.core.simulated_service import SimJob, SimulatedService
from tests.core.simulated_time import SimulatedTime

CONFIG = ClientConfig(http=True)
ORIGIN, ENDPOINT, NEW_ENDPOINT = "http://account", "http://ep.host", "http://new.host"
FAILURES = CONFIG.retry.max_attempts + 3
"""More failures in a row than the retry policy's attempts."""
DEADLINE = 600.0


def jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


TOKEN = jwt({"iat": 1000, "exp": 1600})
ISSUED = HttpResponse(200, (), TOKEN.encode())
ENDPOINT_ROWS = SqlRows(("SERVICE_ENDPOINT",), ((NEW_ENDPOINT,),))

TRANSIENT_EXCHANGE: list[Any] = [
    response(503, {"message": "service unavailable"}),
    response(429, {"message": "slow down"}, (("Retry-After", "2"),)),
    TransportError("connection reset by peer", request_sent=True),
    TransportError("connection refused", request_sent=False),
]
LOST_SESSIONS: list[Any] = [
    SqlFailure("390111: Session no longer exists.", errno=390111),
    SqlFailure("250001 (08001): Failed to refresh session", errno=250001, sqlstate="08001"),
    SqlFailure("connection reset", connection_lost=True),
]


def named(failure: Any) -> str:
    """What a timeout names of `failure`."""
    if isinstance(failure, HttpResponse):
        return f"status {failure.status}: {json.loads(failure.body)['message']}"
    return str(failure.message)


class Account(SimulatedTime):
    """Answers the account's requests and statements with `answers` in turn, then with `then`;
    signs anything; keeps the requests and statements it saw."""

    def __init__(self, answers: Iterable[Any], then: Any) -> None:
        super().__init__()
        self.answers = iter(answers)
        self.then = then
        self.requests: list[HttpRequest | SqlQuery] = []

    def answer_request(self, effect: Any) -> Any:
        if isinstance(effect, SignAssertion):
            return jwt({"iat": 1000, "exp": 4600})
        assert isinstance(effect, HttpRequest | SqlQuery), effect
        assert len(self.requests) < 10_000, "the protocol never ends"
        self.requests.append(effect)
        return next(self.answers, self.then)


def exchange(*, persist: bool, deadline: float = DEADLINE) -> core.Protocol[core.AccessToken]:
    return exchange_token(
        CONFIG, ORIGIN, ENDPOINT, None, app="APP", deadline=deadline, persist=persist
    )


# --- the effects say the deadline persists; cassettes leave it out ------------------------------


def test_a_polls_renewal_and_refresh_say_its_deadline_persists() -> None:
    polling = Deadline(9, persist=True)
    stepper = Stepper(
        send_http(CONFIG, HttpRequest("GET", "/jobs"), as_received, op="get", deadline=polling)
    )
    assert stepper.start() == HttpRequest("GET", "/jobs", deadline=9, persist=True)
    assert stepper.send(HttpResponse(401)) == RenewToken(9, persist=True)
    stepper.send(None)
    stale = HttpResponse(404, (), b"could not find the service associated with endpoint")
    assert stepper.send(stale) == RefreshEndpoint(9, persist=True)


@pytest.mark.parametrize(
    "effect",
    [
        RenewToken(9, persist=True),
        RefreshEndpoint(9, persist=True),
        HttpRequest("GET", "/j", deadline=9, persist=True),
    ],
    ids=repr,
)
def test_persistence_stays_out_of_cassettes(effect: Any) -> None:
    """The account work it steers is not recorded, and cassettes recorded before it still
    match."""
    assert effect_to_json(effect) == effect_to_json(attrs.evolve(effect, persist=False))
    assert "persist" not in effect_to_json(effect)


def test_a_wait_whose_token_was_refused_replays_from_its_cassette() -> None:
    answers = iter([HttpResponse(401), None, ok({"job": job_json("j1", state="COMPLETED")})])

    class Service(SimulatedTime):
        def answer_request(self, effect: Any) -> Any:
            return next(answers)

    text: list[str] = []
    writer = CassetteWriter(CONFIG, text.append)
    wait = core.wait(CONFIG, "Predictive", "j1", timeout_s=60)
    assert Service().run(writer.record(wait)).state == "COMPLETED"
    effects = [json.loads(line)["effect"] for line in text[1:]]
    assert {"type": "RenewToken", "deadline": 60.0} in effects
    replayer = Replayer(Cassette.parse(text))
    assert replayer.run(core.wait(CONFIG, "Predictive", "j1", timeout_s=60)).state == "COMPLETED"
    replayer.finish()


class RefusingOnce(SimulatedService):
    """A service that refuses the first request's token (401); it keeps every HTTP request and
    every renewal asked for."""

    def __init__(self, jobs: list[SimJob]) -> None:
        super().__init__(jobs)
        self.sent: list[HttpRequest] = []
        self.renewals: list[RenewToken] = []

    def answer_request(self, effect: Any) -> Any:
        if isinstance(effect, RenewToken):
            self.renewals.append(effect)
            return None
        if isinstance(effect, HttpRequest):
            self.sent.append(effect)
            if len(self.sent) == 1:
                return HttpResponse(401)
        return super().answer_request(effect)


def first_done(ops: list[tuple[str, str]]) -> core.Protocol[Any]:
    return Completions.open(CONFIG, ops, timeout_s=100).next_done()


WAITS: dict[str, Callable[[list[tuple[str, str]]], core.Protocol[Any]]] = {
    "wait": lambda ops: core.wait(CONFIG, *ops[0], timeout_s=100),
    "wait_all": lambda ops: core.wait_all(CONFIG, ops, timeout_s=100),
    "as_completed": first_done,
}


@pytest.mark.parametrize("call", WAITS)
def test_every_wait_polls_and_renews_its_token_with_a_persistent_deadline(call: str) -> None:
    service = RefusingOnce([SimJob(ReasonerType.PREDICTIVE, "j", 5.0)])
    assert service.run(WAITS[call]([("Predictive", "j")])) is not None
    assert service.renewals == [RenewToken(100.0, persist=True)]
    assert {(r.deadline, r.persist) for r in service.sent} == {(100.0, True)}


# --- the token exchange ------------------------------------------------------------------------


@pytest.mark.parametrize("failure", TRANSIENT_EXCHANGE, ids=named)
def test_a_persistent_exchange_rides_out_more_failures_than_the_policy_allows(
    failure: Any,
) -> None:
    account = Account([failure] * FAILURES, then=ISSUED)
    token = account.run(exchange(persist=True))
    assert token.value == TOKEN
    assert len(account.requests) == FAILURES + 1
    assert len(account.sleeps) == FAILURES
    assert all(r.deadline == DEADLINE and isinstance(r, HttpRequest) for r in account.requests)
    # Its lifetime counts from before the first attempt: it is renewed early, never late.
    assert token.expires_at is not None
    assert token.lifetime_s is not None
    assert token.expires_at <= account.clock + token.lifetime_s


@pytest.mark.parametrize("failure", TRANSIENT_EXCHANGE, ids=named)
def test_a_persistent_exchange_that_never_recovers_ends_at_the_deadline_naming_the_failure(
    failure: Any,
) -> None:
    account = Account([], then=failure)
    with pytest.raises(JobTimeoutError, match="token exchange: the deadline passed") as raised:
        account.run(exchange(persist=True, deadline=60.0))
    assert account.clock == pytest.approx(60.0)
    assert len(account.requests) > CONFIG.retry.max_attempts
    assert f"last failure: {named(failure)}" in str(raised.value)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_refused_key_fails_at_once_even_under_a_persistent_deadline(status: int) -> None:
    refused = response(status, {"error": "invalid_grant", "message": "JWT token is invalid"})
    account = Account([], then=refused)
    with pytest.raises(JobConfigurationError, match=f"status={status}"):
        account.run(exchange(persist=True))
    assert len(account.requests) == 1
    assert account.sleeps == []


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (response(503, {"message": "service unavailable"}), "status=503"),
        (TransportError("connection reset by peer", request_sent=True), "after 5 attempt"),
    ],
)
def test_without_persistence_the_exchange_gives_up_after_the_policys_attempts(
    failure: Any, message: str
) -> None:
    account = Account([], then=failure)
    with pytest.raises(JobServerError, match=message):
        account.run(exchange(persist=False))
    assert len(account.requests) == CONFIG.retry.max_attempts
    assert not any(isinstance(r, HttpRequest) and r.persist for r in account.requests)


def test_a_stale_endpoint_found_by_a_persistent_exchange_is_rediscovered_persistently() -> None:
    stale = response(400, {"message": "could not find the service associated with endpoint"})
    answers = [stale, *LOST_SESSIONS * 3, ENDPOINT_ROWS, response(503, {"message": "busy"})]
    account = Account(answers, then=ISSUED)
    token = account.run(exchange(persist=True))
    assert token.endpoint == NEW_ENDPOINT
    statements = [r for r in account.requests if isinstance(r, SqlQuery)]
    assert len(statements) == len(LOST_SESSIONS) * 3 + 1


# --- the endpoint discovery --------------------------------------------------------------------


@pytest.mark.parametrize("failure", LOST_SESSIONS, ids=named)
def test_a_persistent_discovery_rides_out_lost_sessions(failure: Any) -> None:
    account = Account([failure] * FAILURES, then=ENDPOINT_ROWS)
    found = account.run(discover_endpoint(CONFIG, "APP", deadline=DEADLINE, persist=True))
    assert found == NEW_ENDPOINT
    assert len(account.requests) == FAILURES + 1
    assert {r.deadline for r in account.requests} == {DEADLINE}


@pytest.mark.parametrize("failure", LOST_SESSIONS, ids=named)
def test_a_persistent_discovery_that_never_recovers_ends_at_the_deadline_naming_it(
    failure: Any,
) -> None:
    account = Account([], then=failure)
    with pytest.raises(JobTimeoutError, match="the deadline passed") as raised:
        account.run(discover_endpoint(CONFIG, "APP", deadline=60.0, persist=True))
    assert account.clock == pytest.approx(60.0)
    assert f"last failure: {failure.message}" in str(raised.value)


def test_a_failed_statement_ends_a_persistent_discovery_at_once() -> None:
    account = Account([], then=SqlFailure("Unknown function APP.SERVICE_ENDPOINT", errno=2140))
    with pytest.raises(JobServerError, match="endpoint of APP failed: Unknown function"):
        account.run(discover_endpoint(CONFIG, "APP", deadline=DEADLINE, persist=True))
    assert len(account.requests) == 1
    assert account.sleeps == []


def test_without_persistence_a_lost_session_ends_the_discovery_at_once() -> None:
    account = Account([], then=LOST_SESSIONS[0])
    with pytest.raises(JobServerError, match="Session no longer exists"):
        account.run(discover_endpoint(CONFIG, "APP", deadline=DEADLINE))
    assert len(account.requests) == 1
