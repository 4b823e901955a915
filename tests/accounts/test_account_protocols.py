"""The core's endpoint discovery and token exchange, stepped by hand with no I/O."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from jobs_core import (
    AccessToken,
    ClientConfig,
    HttpRequest,
    HttpResponse,
    JobConfigurationError,
    JobServerError,
    JobTimeoutError,
    Now,
    RefreshEndpoint,
    RenewToken,
    RetryPolicy,
    SignAssertion,
    SqlFailure,
    SqlQuery,
    SqlRows,
    Stepper,
    TransportError,
    discover_endpoint,
    exchange_token,
    parse_endpoint,
)
from jobs_core._retry import Deadline, as_received, send_http
from jobs_core._serialization import effect_to_json

CONFIG = ClientConfig(http=True, retry=RetryPolicy(max_attempts=2))


def jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("app", "text"),
    [
        ("RELATIONALAI", "CALL RELATIONALAI.app.service_endpoint(TRUE)"),
        ("my-app", 'CALL "my-app".app.service_endpoint(TRUE)'),
        ('we"ird', 'CALL "we""ird".app.service_endpoint(TRUE)'),
    ],
)
def test_discovery_asks_the_app_quoted_when_needed(app: str, text: str) -> None:
    stepper = Stepper(discover_endpoint(CONFIG, app))
    assert stepper.start() == SqlQuery(text, (), "service_endpoint")
    assert stepper.send(SqlRows(("SERVICE_ENDPOINT",), (("abc.snowflakecomputing.app",),))) is None
    assert stepper.result == "https://abc.snowflakecomputing.app"


@pytest.mark.parametrize(
    ("columns", "row", "url"),
    [
        (("SERVICE_ENDPOINT",), ("http://127.0.0.1:8000/",), "http://127.0.0.1:8000"),
        (
            ("SERVICE_ENDPOINT", "PRIVATELINK_INGRESS_URL"),
            ("public.host", "private.host"),
            "https://private.host",
        ),
        (
            ("SERVICE_ENDPOINT", "PRIVATELINK_INGRESS_URL"),
            ("public.host", None),
            "https://public.host",
        ),
        (
            ("SERVICE_ENDPOINT", "PRIVATELINK_INGRESS_URL"),
            ("public.host", " "),
            "https://public.host",
        ),
    ],
)
def test_the_endpoint_answer(columns: tuple[str, ...], row: tuple[str, ...], url: str) -> None:
    assert parse_endpoint(SqlRows(columns, (row,))) == url


@pytest.mark.parametrize(
    "rows",
    [SqlRows(("SERVICE_ENDPOINT",), ()), SqlRows(("A", "B"), ((None, 1),))],
)
def test_no_endpoint_in_the_answer(rows: SqlRows) -> None:
    with pytest.raises(JobServerError, match="service_endpoint answered no"):
        parse_endpoint(rows)


def test_a_failed_discovery_is_a_server_error() -> None:
    stepper = Stepper(discover_endpoint(CONFIG, "APP"))
    stepper.start()
    with pytest.raises(JobServerError, match="finding the Direct Access endpoint of APP failed"):
        stepper.throw(SqlFailure("Unknown function", errno=2140))


def test_the_exchange() -> None:
    assertion = jwt({"iat": 1000, "exp": 4600})
    stepper = Stepper(exchange_token(CONFIG, "https://acc.example:443", "https://ep.host", "R"))
    assert stepper.start() == SignAssertion()
    assert stepper.send(assertion) == Now()
    request = stepper.send(50.0)
    assert isinstance(request, HttpRequest)
    assert (request.method, request.origin, request.target) == (
        "POST",
        "https://acc.example:443",
        "/oauth/token",
    )
    form = urllib.parse.parse_qs(request.body.decode())
    assert form == {
        "grant_type": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "assertion": [assertion],
        "scope": ["session:role:R ep.host"],
    }
    token = jwt({"iat": 2000, "exp": 2600})
    assert stepper.send(HttpResponse(200, (), token.encode())) is None
    # A whole-second iat may be up to a second late: the lifetime is counted a second shorter.
    assert stepper.result == AccessToken(token, 649.0, 599.0, "https://ep.host")
    assert token not in repr(stepper.result)


def test_the_exchange_without_role_and_with_the_assertions_iat() -> None:
    stepper = Stepper(exchange_token(CONFIG, "http://127.0.0.1:1", "http://127.0.0.1:2", None))
    stepper.start()
    stepper.send(jwt({"iat": 100, "exp": 200}))
    request = stepper.send(0.0)
    assert isinstance(request, HttpRequest)
    assert urllib.parse.parse_qs(request.body.decode())["scope"] == ["127.0.0.1:2"]
    stepper.send(HttpResponse(200, (), jwt({"exp": 160.5}).encode()))
    assert (stepper.result.expires_at, stepper.result.lifetime_s) == (59.5, 59.5)


def test_an_opaque_token_never_expires_ahead() -> None:
    stepper = Stepper(exchange_token(CONFIG, "http://a", "http://b", None))
    stepper.start()
    stepper.send("x.y.z")
    stepper.send(0.0)
    stepper.send(HttpResponse(200, (), b"opaque\n"))
    assert stepper.result == AccessToken("opaque", endpoint="http://b")
    assert stepper.result.usable_at(1e12)


@pytest.mark.parametrize(("status", "error"), [(401, JobConfigurationError), (500, JobServerError)])
def test_a_refused_exchange(status: int, error: type[Exception]) -> None:
    stepper = Stepper(exchange_token(CONFIG, "http://a", "http://b", None))
    stepper.start()
    stepper.send("x.y.z")
    request = stepper.send(0.0)
    response = HttpResponse(status, (), b'{"message": "JWT token is invalid"}')
    # A refusal is not answered by renewing the token (the exchange is how tokens are renewed);
    # a 5xx is retried by the policy, then reported.
    with pytest.raises(error, match="JWT token is invalid"):  # noqa: PT012 (steps until it fails)
        for _ in range(10):
            assert not isinstance(request, RenewToken)
            request = stepper.send(response if isinstance(request, HttpRequest) else None)


@pytest.mark.parametrize(
    ("lifetime", "now", "usable"),
    [
        (2.0, 0.0, True),
        (2.0, 1.79, True),
        (2.0, 1.8, False),
        (3600.0, 3539.0, True),
        (3600.0, 3540.0, False),
    ],
)
def test_a_token_is_renewed_shortly_before_it_expires(
    lifetime: float, now: float, usable: bool
) -> None:
    assert AccessToken("t", lifetime, lifetime).usable_at(now) is usable


def test_a_401_renews_the_token_once() -> None:
    stepper = Stepper(send_http(CONFIG, HttpRequest("GET", "/jobs"), as_received, op="get"))
    request = stepper.start()
    assert stepper.send(HttpResponse(401)) == RenewToken()
    assert stepper.send(None) == request
    assert stepper.send(HttpResponse(401)) is None
    assert stepper.result.status == 401


def test_the_new_effects_in_cassettes_and_old_requests_have_no_origin() -> None:
    assert effect_to_json(RenewToken()) == {"type": "RenewToken"}
    assert effect_to_json(SignAssertion()) == {"type": "SignAssertion"}
    assert effect_to_json(HttpRequest("POST", "/x", origin="http://a"))["origin"] == "http://a"
    assert "origin" not in effect_to_json(HttpRequest("GET", "/x"))


def test_an_exchange_that_finds_the_endpoint_stale_rediscovers_it_once() -> None:
    stale = HttpResponse(
        400, (), b'{"message": "could not find the service associated with endpoint"}'
    )
    stepper = Stepper(exchange_token(CONFIG, "http://a", "http://old", None, app="APP"))
    stepper.start()
    stepper.send("x.y.z")
    stepper.send(0.0)
    assert stepper.send(stale) == SqlQuery(
        "CALL APP.app.service_endpoint(TRUE)", (), "service_endpoint"
    )
    assert stepper.send(SqlRows(("SERVICE_ENDPOINT",), (("new.host",),))) == SignAssertion()
    stepper.send("x.y.z")
    request = stepper.send(1.0)
    assert isinstance(request, HttpRequest)
    assert urllib.parse.parse_qs(request.body.decode())["scope"] == ["new.host"]
    stepper.send(HttpResponse(200, (), b"token"))
    assert stepper.result == AccessToken("token", endpoint="https://new.host")
    # Stale again: no second rediscovery, the exchange fails.
    again = Stepper(exchange_token(CONFIG, "http://a", "http://old", None, app="APP"))
    again.start()
    again.send("x.y.z")
    again.send(0.0)
    again.send(stale)
    again.send(SqlRows(("SERVICE_ENDPOINT",), (("new.host",),)))
    again.send("x.y.z")
    again.send(1.0)
    with pytest.raises(JobServerError, match="could not find the service"):
        again.send(stale)


def test_a_refresh_or_renewal_carries_the_deadline_of_the_request_that_needs_it() -> None:
    stepper = Stepper(
        send_http(CONFIG, HttpRequest("GET", "/jobs"), as_received, op="get", deadline=Deadline(9))
    )
    assert stepper.start() == HttpRequest("GET", "/jobs", deadline=9)
    assert stepper.send(HttpResponse(401)) == RenewToken(deadline=9)
    stepper.send(None)
    stale = HttpResponse(404, (), b"could not find the service associated with endpoint")
    assert stepper.send(stale) == RefreshEndpoint(deadline=9)
    assert effect_to_json(RefreshEndpoint(deadline=9)) == {"type": "RefreshEndpoint", "deadline": 9}


def test_a_discovery_carries_its_deadline_and_ends_by_it() -> None:
    stepper = Stepper(discover_endpoint(CONFIG, "APP", deadline=5.0))
    query = stepper.start()
    assert isinstance(query, SqlQuery)
    assert query.deadline == 5.0
    assert stepper.throw(SqlFailure("the call's deadline passed", connection_lost=True)) == Now()
    with pytest.raises(JobTimeoutError, match="endpoint of APP failed: the call's deadline"):
        stepper.send(5.0)


def test_a_lost_connection_before_the_deadline_is_a_server_error() -> None:
    stepper = Stepper(discover_endpoint(CONFIG, "APP", deadline=5.0))
    stepper.start()
    stepper.throw(SqlFailure("connection reset", connection_lost=True))
    with pytest.raises(JobServerError, match="connection reset"):
        stepper.send(1.0)


def test_an_exchange_carries_its_deadline_and_stops_retrying_at_it() -> None:
    stepper = Stepper(exchange_token(CONFIG, "http://a", "http://b", None, deadline=5.0))
    stepper.start()
    stepper.send("x.y.z")
    request = stepper.send(0.0)
    assert isinstance(request, HttpRequest)
    assert request.deadline == 5.0
    assert stepper.throw(TransportError("read timed out", request_sent=True, timeout=True)) == Now()
    with pytest.raises(JobTimeoutError, match="token exchange: the deadline passed"):
        stepper.send(5.0)
