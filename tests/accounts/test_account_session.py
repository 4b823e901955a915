"""The account session's protocols, stepped by hand: what a driver runs before a request."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from jobs_core import (
    ClientConfig,
    HttpRequest,
    HttpResponse,
    JobServerError,
    Now,
    Protocol,
    RetryPolicy,
    SignAssertion,
    SqlQuery,
    SqlRows,
    Stepper,
    TransportError,
)
from jobs_transports._account_session import AccountSession, KeyPairExchange, TokenSource
from jobs_transports._endpoint_cache import EndpointCache

CONFIG = ClientConfig(http=True)
KEY_PAIR = TokenSource(exchange=KeyPairExchange("https://acc.example", None))


def test_the_first_request_discovers_then_exchanges() -> None:
    session = AccountSession(CONFIG, KEY_PAIR, account="acc", app="APP")
    stepper = Stepper(session.prepare())
    assert isinstance(stepper.start(), SqlQuery)
    assert stepper.send(SqlRows(("SERVICE_ENDPOINT",), (("ep.host",),))) == Now()
    assert stepper.send(0.0) == SignAssertion()
    assert stepper.send("x.y.z") == Now()
    request = stepper.send(0.0)
    assert isinstance(request, HttpRequest)
    assert request.origin == "https://acc.example"
    assert stepper.send(HttpResponse(200, (), b"the-token")) is None
    assert session.endpoint == "https://ep.host"
    assert session.credentials() == (("Authorization", 'Snowflake Token="the-token"'),)
    assert session.is_ready(1e9)  # an opaque token is renewed only when refused
    assert "the-token" not in repr(session)


def test_an_exchanged_token_that_cannot_go_in_a_header_is_a_server_error() -> None:
    session = AccountSession(CONFIG, KEY_PAIR, endpoint=lambda: "https://ep.host")
    stepper = Stepper(session.prepare())
    assert stepper.start() == Now()
    stepper.send(0.0)
    stepper.send("x.y.z")
    stepper.send(0.0)
    with pytest.raises(JobServerError, match="cannot go in an HTTP header") as caught:
        stepper.send(HttpResponse(200, (), b"not a\ttoken"))
    assert "not a" not in str(caught.value)
    assert session.credentials() == ()


def test_only_a_cached_endpoint_that_cannot_be_reached_is_doubted_and_only_once(
    tmp_path: Path,
) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.put("acc", "APP", "http://127.0.0.1:1")
    session = AccountSession(CONFIG, TokenSource(fixed="t"), account="acc", app="APP", cache=cache)
    refused = TransportError("ConnectError: connection refused", request_sent=False)
    Stepper(session.prepare()).start()
    assert session.endpoint == "http://127.0.0.1:1"
    assert not session.distrusts(TransportError("read timed out", request_sent=True))
    assert session.distrusts(refused)
    session.mark_used()
    stepper = Stepper(session.rediscover())
    assert isinstance(stepper.start(), SqlQuery)
    assert stepper.send(SqlRows(("SERVICE_ENDPOINT",), (("http://ep.host",),))) == Now()
    assert stepper.send(0.0) is None
    assert session.endpoint == "http://ep.host"
    cached = cache.get("acc", "APP")
    assert cached is not None
    assert cached.endpoint == "http://ep.host"
    assert not session.distrusts(refused)  # a discovered endpoint: the retries decide


@pytest.mark.parametrize(
    "answer",
    ["ftp://ep.host", "http://a b", "http://[::1", "h\u00e9.example", "http://ep.host:99999"],
)
def test_a_discovered_endpoint_that_is_no_base_url_is_the_service_s_fault_and_not_cached(
    tmp_path: Path, answer: str
) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    session = AccountSession(CONFIG, TokenSource(fixed="t"), account="acc", app="APP", cache=cache)
    stepper = Stepper(session.prepare())
    assert isinstance(stepper.start(), SqlQuery)
    with pytest.raises(JobServerError, match="APP answered a Direct Access endpoint that is not"):
        stepper.send(SqlRows(("SERVICE_ENDPOINT",), ((answer,),)))
    assert session.endpoint is None
    assert not cache.path.exists()


def _token_living(issued: int, expires: int) -> bytes:
    """An exchanged token: a JWT whose claims say when it was issued and when it expires."""
    claims = json.dumps({"iat": issued, "exp": expires}).encode()
    return b"e30." + base64.urlsafe_b64encode(claims).rstrip(b"=") + b".sig"


def _exchange(protocol: Protocol[None], now: float, answer: HttpResponse) -> None:
    """Step `protocol` (a session's `prepare` or `renew`) at `now` through a token exchange
    answered `answer`."""
    stepper = Stepper(protocol)
    assert stepper.start() == Now()
    assert stepper.send(now) == SignAssertion()
    assert stepper.send("x.y.z") == Now()
    assert isinstance(stepper.send(now), HttpRequest)
    after = stepper.send(answer)
    if after == Now():  # a failed renewal reads the clock to tell whether the token expired
        after = stepper.send(now)
    assert after is None


def test_a_failed_early_renewal_keeps_the_token_until_it_expires(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = ClientConfig(http=True, retry=RetryPolicy(max_attempts=1))
    session = AccountSession(config, KEY_PAIR, endpoint=lambda: "https://ep.host")
    _exchange(session.prepare(), 0.0, HttpResponse(200, (), _token_living(0, 600)))
    first = session.credentials()
    unavailable = HttpResponse(503, (), b"try later")
    with caplog.at_level(logging.WARNING, "jobs_transports"):
        _exchange(session.prepare(), 580.0, unavailable)  # due for renewal, not yet expired
    assert session.credentials() == first
    assert "the current token is used until it expires" in caplog.text
    with pytest.raises(JobServerError, match="status=503"):
        _exchange(session.prepare(), 600.0, unavailable)  # expired: nothing to fall back on
    _exchange(session.prepare(), 600.0, HttpResponse(200, (), _token_living(600, 1200)))
    session.mark_used()
    with pytest.raises(JobServerError, match="status=503"):
        _exchange(session.renew(), 1180.0, unavailable)  # refused: never sent again
    assert session.credentials() == ()
