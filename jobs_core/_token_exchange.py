"""Direct Access tokens: the key-pair exchange and when a token is due.

The exchange POSTs a signed key-pair login token (asked for with `SignAssertion`: signing needs
the private key, which the core never sees) to the account's ``/oauth/token`` and gets back a
token valid for one endpoint. That token is a JWT whose claims are read without verifying it
(the service verifies it, the client only needs its lifetime), with the standard library's base64
and JSON: no cryptography here.
"""

from __future__ import annotations

import base64
import binascii
import math
import urllib.parse
from typing import Any

import attrs

from . import _failures as failures
from ._config import ClientConfig
from ._effects import HttpRequest, HttpResponse, Now, Protocol, SignAssertion
from ._endpoint_discovery import discover_endpoint
from ._errors import JobConfigurationError, JobServerError, clip
from ._json_text import decode_json
from ._retry import Deadline, as_received, send_http

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/oauth/token"
MAX_REFRESH_AHEAD_S = 60.0
"""A token is renewed this long before it expires at most (a tenth of its lifetime at least)."""
MAX_CLAIM_S = 2**53
"""The largest `iat`/`exp` a token may claim (seconds, either sign): beyond, floats lose seconds."""


@attrs.frozen
class AccessToken:
    """A Direct Access token and when it expires on the `Now` clock (None: not known).

    `endpoint` is the one it was issued for, when it was exchanged for one.
    """

    value: str = attrs.field(repr=False)
    expires_at: float | None = None
    lifetime_s: float | None = None
    endpoint: str | None = None

    def expired_at(self, now: float) -> bool:
        """Return whether the token has run out at `now` (never, when its expiry is not known)."""
        return self.expires_at is not None and now >= self.expires_at

    def usable_at(self, now: float) -> bool:
        """Return whether the token can still be sent at `now` (it is not due for renewal)."""
        if self.expires_at is None or self.lifetime_s is None:
            return True
        ahead = min(MAX_REFRESH_AHEAD_S, self.lifetime_s / 10)
        return now < self.expires_at - ahead


def jwt_claims(token: str) -> dict[str, Any] | None:
    """Return the claims of JWT `token`, unverified, or None when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = decode_json(payload)
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: absurdly nested
        return None
    return claims if isinstance(claims, dict) else None


def scope_for(endpoint: str, role: str | None) -> str:
    """Return the exchange's scope: the endpoint's host (and port) without its scheme, prefixed by
    ``session:role:ROLE `` when a role is configured."""
    host = urllib.parse.urlsplit(endpoint).netloc or endpoint
    return f"session:role:{role} {host}" if role else host


def exchange_request(origin: str, endpoint: str, role: str | None, assertion: str) -> HttpRequest:
    """Return the request that exchanges `assertion` at `origin` for a token for `endpoint`."""
    body = urllib.parse.urlencode(
        {"grant_type": GRANT_TYPE, "assertion": assertion, "scope": scope_for(endpoint, role)}
    )
    return HttpRequest(
        "POST",
        TOKEN_PATH,
        (("Content-Type", "application/x-www-form-urlencoded"),),
        body.encode("ascii"),
        origin=origin.rstrip("/"),
    )


def parse_exchange(response: HttpResponse, *, asked_at: float, assertion: str) -> AccessToken:
    """Return the token the exchange answered; its expiry counts from `asked_at` (a `Now` reading).

    The lifetime is the answer's ``exp`` minus its ``iat`` (or the assertion's ``iat``), so the
    client's wall clock plays no part; a whole-second ``iat`` takes a second off it.

    Raises:
        JobConfigurationError: the account refused the key (4xx): a key not registered for the
            user, a wrong account or user, a role the user lacks.
        JobServerError: a stale endpoint, any other failure, an empty answer, or a token whose
            `iat` or `exp` is a number no clock reaches.
    """
    text = failures.response_text(response)
    if response.status != 200:
        refused = 400 <= response.status < 500 and not failures.is_stale_endpoint(text)
        cls = JobConfigurationError if refused else JobServerError
        raise cls(
            f"the key-pair token exchange at {TOKEN_PATH} failed (status={response.status}): "
            f"{clip(text)}"
        )
    value = response.body.decode("utf-8", "replace").strip()
    if not value:
        raise JobServerError(f"the token exchange at {TOKEN_PATH} answered an empty body")
    claims = jwt_claims(value) or {}
    issued = _number("iat", claims.get("iat", (jwt_claims(assertion) or {}).get("iat")))
    expires = _number("exp", claims.get("exp"))
    if issued is None or expires is None:
        return AccessToken(value)
    lifetime = expires - issued
    if issued.is_integer() and lifetime > 1:
        # `iat` is usually whole seconds, rounded down: the token may be up to a second older
        # than `asked_at` says, so its lifetime is counted a second shorter.
        lifetime -= 1
    return AccessToken(value, asked_at + lifetime, lifetime)


def _number(claim: str, value: Any) -> float | None:
    """Return the time `value` of `claim` in seconds, or None when it is not a number.

    Raises:
        JobServerError: a number no clock reaches (infinite, NaN, or beyond ±2**53 s).
    """
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    # Compared as given: float() of a huge int overflows, and its repr may be megabytes.
    if not (isinstance(value, int) or math.isfinite(value)) or abs(value) > MAX_CLAIM_S:
        raise JobServerError(
            f"the token exchange at {TOKEN_PATH} answered a token whose {claim} is not a time"
        )
    return float(value)


def _ask(
    config: ClientConfig, origin: str, endpoint: str, role: str | None, deadline: Deadline | None
) -> Protocol[tuple[HttpResponse, float, str]]:
    assertion: str = yield SignAssertion()
    # Read before the first attempt: after retries the token's expiry is counted early, never
    # late, so it is at worst renewed sooner than needed.
    asked_at: float = yield Now()
    request = exchange_request(origin, endpoint, role, assertion)
    response = yield from send_http(
        config, request, as_received, op="token exchange", deadline=deadline
    )
    return response, asked_at, assertion


def exchange_token(
    config: ClientConfig,
    origin: str,
    endpoint: str,
    role: str | None,
    *,
    app: str | None = None,
    deadline: float | None = None,
    persist: bool = False,
) -> Protocol[AccessToken]:
    """Return the protocol that gets a token for `endpoint` from the account at `origin`.

    When the account answers that `endpoint` is stale and `app` is given, the endpoint is
    discovered again (once) and the token asked for the new one: the token's `endpoint` says which.
    `deadline` (on the `Now` clock) is that of the call that needs the token: its requests carry
    it and their retries stop at it. When `persist` (the call polls, see
    `jobs_core._retry.Deadline`) they retry transient failures (429, 5xx, transport errors, a lost
    SQL session) until the deadline rather than for `config`'s attempts; a refused key is never
    retried.

    Raises:
        JobConfigurationError, JobServerError: as `parse_exchange`, or the account could not be
            reached, or the rediscovery failed.
        JobTimeoutError: the `deadline` passed first (naming the last failure, when the failures
            were retried).
    """
    bound = None if deadline is None else Deadline(deadline, persist)
    response, asked_at, assertion = yield from _ask(config, origin, endpoint, role, bound)
    if (
        app is not None
        and response.status >= 400
        and failures.is_stale_endpoint(failures.response_text(response))
    ):
        endpoint = yield from discover_endpoint(config, app, deadline=deadline, persist=persist)
        response, asked_at, assertion = yield from _ask(config, origin, endpoint, role, bound)
    token = parse_exchange(response, asked_at=asked_at, assertion=assertion)
    return attrs.evolve(token, endpoint=endpoint)
