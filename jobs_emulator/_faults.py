"""Fault injection: rules the server consults for every request, on either API.

A rule targets requests by method (any casing, `None` for any) and path prefix (the path as sent,
`""` for any), lets the first `skip` matching requests through, then fires on the next `times`
ones (`None`: forever). The first rule that fires for a request decides its fault; `rule.hits`
counts how often it fired. Rules are added from any thread through `emu.faults`:

    emu.faults.throttle(status=429, retry_after=2, times=3, method="GET", path="/v1alpha1/jobs")
    emu.faults.drop(before_request=True, path="/v1alpha1/transactions")
    emu.faults.close_idle_after(2)

What each fault does:
- `delay`: waits `seconds` (real time) before the request is handled.
- `drop`: closes the connection without answering, either once the request head is read (the API
  never sees the request) or after the request was handled (its effect happens, no answer comes).
- `respond`: answers a canned response instead of handling the request; `throttle` is a 429/5xx
  burst with `Retry-After`, `stale_endpoint` a body saying the service behind the endpoint is gone.
- `lost_session` (SQL statements by default): ends the Snowflake session the request carries, for
  good, as Snowflake does when it drops one: that statement and every later one on the session
  fail with error 390111 until the client logs in again.
- `truncate`: handles the request, sends the headers and half the body, then closes.
- `malformed`: handles the request and answers its status with a body that is not valid JSON.
- `close_idle_after(n)`: every keep-alive connection is closed by the server after its n-th
  response, without a `Connection: close` header, as an idle timeout on a real server does.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from jobs_emulator._messages import BODILESS, Response
from jobs_emulator._validation import finite_number

if TYPE_CHECKING:
    from typing_extensions import Unpack

STALE_ENDPOINT_MESSAGE = (
    "could not find the service associated with endpoint; the endpoint may have been refreshed"
)
QUERY_PATH = "/queries/v1/query-request"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
"""An HTTP token (RFC 9110 §5.6.2): what a method or a header name is made of."""
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*\Z")
"""A header value the server can write: Latin-1 text without line breaks or control bytes."""


@attrs.frozen
class Delay:
    seconds: float


@attrs.frozen
class Drop:
    before_request: bool
    """Drop once the request head is read (`True`) or after the request was handled (`False`)."""


@attrs.frozen
class Respond:
    response: Response


@attrs.frozen
class Truncate:
    pass


@attrs.frozen
class LoseSession:
    """End the session of the request for good; the Snowflake API answers it (and every later
    statement on that session) as a session that no longer exists."""


@attrs.frozen
class Malformed:
    pass


Fault = Delay | Drop | Respond | Truncate | Malformed | LoseSession


class Target(TypedDict, total=False):
    """Which requests a rule fires on; see `Faults.add`."""

    method: str | None
    path: str
    times: int | None
    skip: int


@attrs.define
class Rule:
    """One fault and the requests it targets; `hits` counts the requests it fired on."""

    fault: Fault
    method: str | None = None
    path: str = ""
    times: int | None = 1
    skip: int = 0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Return whether the rule targets a request with that method and path."""
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and path.startswith(self.path)

    @property
    def exhausted(self) -> bool:
        """Return whether the rule has fired as many times as it may."""
        return self.times is not None and self.hits >= self.times


class Faults:
    """The fault rules of one emulator; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._close_idle_after: int | None = None

    def add(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str = "",
        times: int | None = 1,
        skip: int = 0,
    ) -> Rule:
        """Add a rule for `fault`; return it (watch `rule.hits`).

        Raise `ValueError` for a `method` that is not a string or `None`, a `path` that is not
        `""` or does not start with `/` (it could never match), `times` that is not an int >= 1
        or `None`, or a `skip` that is not an int >= 0: a rule is checked when it is made, not
        when a request finds it broken.
        """
        if method is not None and (not isinstance(method, str) or not _TOKEN.match(method)):
            raise ValueError(f"method must be an HTTP method name or None, got {method!r}")
        if not isinstance(path, str) or (path and not path.startswith("/")):
            raise ValueError(f"path must be '' or a path prefix starting with '/', got {path!r}")
        if times is not None and not (_is_int(times) and times >= 1):
            raise ValueError(f"times must be an integer >= 1 or None, got {times!r}")
        if not (_is_int(skip) and skip >= 0):
            raise ValueError(f"skip must be an integer >= 0, got {skip!r}")
        rule = Rule(fault, method, path, times, skip)
        with self._lock:
            self._rules.append(rule)
        return rule

    def delay(self, seconds: float, **target: Unpack[Target]) -> Rule:
        """Delay matching requests by `seconds` before handling them; return the rule.

        Raise `ValueError` unless `seconds` is a finite number >= 0.
        """
        wait = finite_number(seconds)
        if wait is None or wait < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        return self.add(Delay(wait), **target)

    def drop(self, *, before_request: bool = True, **target: Unpack[Target]) -> Rule:
        """Close the connection without an answer, before or after handling; return the rule."""
        return self.add(Drop(before_request), **target)

    def respond(
        self,
        status: int,
        body: Any = None,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        **target: Unpack[Target],
    ) -> Rule:
        """Answer `status` and `body` (JSON-encoded unless bytes; `None` is `{}`, or no body for
        a 204 or 304) unhandled; return the rule.

        Raise `ValueError` for an answer HTTP cannot carry: a status outside 200-599, a body on a
        204 or 304, a header name that is not a token or a value with a line break or a
        character outside Latin-1.
        """
        if not (_is_int(status) and 200 <= status <= 599):
            raise ValueError(f"status must be an integer from 200 to 599, got {status!r}")
        for name, value in headers:
            if not (isinstance(name, str) and _TOKEN.match(name)):
                raise ValueError(f"header names must be HTTP tokens, got {name!r}")
            if not (isinstance(value, str) and _FIELD_VALUE.match(value)):
                raise ValueError(f"the {name} header value must be Latin-1 text on one line")
        if status in BODILESS:
            if body not in (None, b""):
                raise ValueError(f"a {status} answer has no body")
            response = Response(status, b"", headers)
        elif isinstance(body, bytes):
            response = Response(status, body, headers)
        else:
            response = Response.json(status, body if body is not None else {}, headers)
        return self.add(Respond(response), **target)

    def throttle(
        self, status: int = 429, *, retry_after: float | str | None = 1, **target: Unpack[Target]
    ) -> Rule:
        """Answer `status` (429, 503...) with `Retry-After` unless `None`; return the rule.

        `retry_after` is seconds (a finite number >= 0) or the header's text as is (an HTTP
        date). Raise `ValueError` for a `status` other than 429 or 500-599 (no client would
        retry it), another number, or what `respond()` raises.
        """
        if status != 429 and not (isinstance(status, int) and 500 <= status <= 599):
            raise ValueError(f"a throttle's status must be 429 or 500-599, got {status!r}")
        headers = () if retry_after is None else (("Retry-After", _retry_after(retry_after)),)
        message = "too many requests" if status == 429 else "service unavailable"
        return self.respond(status, {"message": message}, headers=headers, **target)

    def stale_endpoint(self, status: int = 404, **target: Unpack[Target]) -> Rule:
        """Answer `status` with the stale-endpoint message; return the rule.

        Raise `ValueError` for a `status` below 400 (a success is read as the answer, whatever
        its body says: the service never sends this message with one), or what `respond()`
        raises.
        """
        if isinstance(status, bool) or not (isinstance(status, int) and status >= 400):
            raise ValueError(f"a stale endpoint's status must be an error (400-599): {status!r}")
        return self.respond(status, {"message": STALE_ENDPOINT_MESSAGE}, **target)

    def lost_session(self, **target: Unpack[Target]) -> Rule:
        """End the Snowflake session of matching requests (SQL statements unless `path` says
        otherwise) for good; return the rule.

        As on Snowflake, the request fails with error 390111, "Session no longer exists" (HTTP
        200), and so does every later statement on that session, whatever the rules then say:
        only a new login (a new connection) gets a session that works. Other sessions are
        untouched. A request without a session just gets the error.
        """
        target.setdefault("path", QUERY_PATH)
        return self.add(LoseSession(), **target)

    def truncate(self, **target: Unpack[Target]) -> Rule:
        """Send half of the real body, then closes the connection; return the rule."""
        return self.add(Truncate(), **target)

    def malformed(self, **target: Unpack[Target]) -> Rule:
        """Answer the real status with a body that is not valid JSON; return the rule."""
        return self.add(Malformed(), **target)

    def close_idle_after(self, requests: int | None) -> None:
        """Close each connection after its `requests`-th response (`None`: keep connections open).

        Raise `ValueError` for a count below 1.
        """
        if requests is not None and not (_is_int(requests) and requests >= 1):
            raise ValueError(f"requests must be an integer >= 1 or None, got {requests!r}")
        with self._lock:
            self._close_idle_after = requests

    def clear(self) -> None:
        """Remove every rule and the idle close."""
        with self._lock:
            self._rules.clear()
            self._close_idle_after = None

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault for one request, counting it against its rule; `None`: no fault.

        Every matching rule sees the request (so each rule's `skip` counts requests it targets),
        and the first one with occurrences left fires.
        """
        with self._lock:
            fired: Fault | None = None
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                if rule.skip:
                    rule.skip -= 1
                elif fired is None:
                    rule.hits += 1
                    fired = rule.fault
            return fired

    def closes_after(self, served: int) -> bool:
        """Return whether a connection that has answered `served` requests must now close."""
        with self._lock:
            limit = self._close_idle_after
        return limit is not None and served >= limit


def _retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    seconds = finite_number(value)
    if seconds is None or seconds < 0:
        raise ValueError(f"retry_after must be a finite number >= 0 or text, got {value!r}")
    return f"{seconds:g}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
