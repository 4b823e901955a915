"""What the h11 pools share, with no I/O of their own: the blocking pool (`_h11_blocking`, the sync
driver's) and the async one (`_h11_pool`, asyncio and trio) differ only in how they wait.

A pooled connection, a request in flight, a whole response; the bytes of a request and the
reading of a response from h11's events (its body capped at `MAX_RESPONSE_BYTES`); a URL split
into origin and target; and the time a phase of an exchange may take. Failures are httpcore's
exception types (and `ResponseTooLarge`, one of them), which `as_transport_error` translates for
the core.
"""

from __future__ import annotations

import functools
import io
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import certifi
import h11
import httpcore

POOL_CLOSED = "the connection pool is closed"
Origin = tuple[str, str, int]
"""Scheme, host and port."""
Timeouts = Mapping[str, float | None]
NO_TIMEOUTS: Timeouts = {}

_PORTS = {"http": 80, "https": 443}

MAX_RESPONSE_BYTES = 64 << 20
"""The largest response body the pools accept (64 MiB; a list of 10,000 jobs is about 5 MB).
A body announced larger is refused at its head, one growing larger stops being read: either
way the request fails with `ResponseTooLarge` and its connection is closed."""


class ResponseTooLarge(httpcore.RemoteProtocolError):
    """The response body is larger than `MAX_RESPONSE_BYTES`."""


EXCHANGE_ERRORS = (httpcore.NetworkError, httpcore.TimeoutException, httpcore.RemoteProtocolError)
"""What the network or the server may make an exchange raise."""


class Closable(Protocol):
    """A connection's stream, as far as the shared parts use it."""

    def close(self) -> None:
        """Close it now; whatever waits on it fails."""
        ...


S = TypeVar("S", bound=Closable)


class Connection(Generic[S]):
    """One pooled connection: its stream, its h11 state and whether a request holds it."""

    __slots__ = ("busy", "closed", "h11", "origin", "stream")

    def __init__(self, origin: Origin, stream: S) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.busy = True
        self.closed = False

    def is_idle(self) -> bool:
        """True when no request holds it and it is open."""
        return not self.busy and not self.closed

    def is_closed(self) -> bool:
        """True once it was closed."""
        return self.closed

    def is_reusable(self) -> bool:
        """True when its last exchange ended with a whole response, nothing came after it, and
        h11 can start another.

        Bytes past a response (a second response, garbage) would be read as the answer to the
        next request: the connection is out of step with the server, and is not reused.
        """
        state = self.h11
        return (
            state.our_state is h11.DONE
            and state.their_state is h11.DONE
            and not state.trailing_data[0]
        )

    def close(self) -> None:
        """Close it now (nothing waited for, so no cancellation can interrupt it)."""
        self.closed = True
        self.stream.close()

    def __repr__(self) -> str:
        state = "CLOSED" if self.closed else "ACTIVE" if self.busy else "IDLE"
        return f"<Connection [{self.origin[0]}://{self.origin[1]}:{self.origin[2]}, {state}]>"


class RequestLine:
    """What a request in flight is for (the pools' `_requests` list them)."""

    __slots__ = ("method", "url")

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url


class InFlight(Generic[S]):
    """A request a pool is serving, and the connection it holds, if any yet."""

    __slots__ = ("connection", "request")

    def __init__(self, request: RequestLine) -> None:
        self.request = request
        self.connection: Connection[S] | None = None


class Response:
    """A whole response: status, headers as received, body."""

    __slots__ = ("content", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content


class CheckedHeaders:
    """The header lists a pool has sent, in the form h11 checked them in, each checked once.

    h11 checks every name and value of every request against the HTTP grammar, which is half the
    cost of writing a request, and takes a list it already checked (an event's `headers`) as it
    is. A client sends the same few lists again and again (its Host, content type and
    credentials; the Content-Length of its bodies), so each is kept, keyed by its text: at most
    `LIMIT` of them, all dropped when one more comes.
    """

    LIMIT = 256

    def __init__(self) -> None:
        self._checked: dict[tuple[tuple[str, str], ...], Any] = {}

    def request(self, method: str, target: str, head: list[tuple[str, str]]) -> h11.Request:
        """Return h11's request for `method`, `target` and header list `head`.

        Raises:
            h11.LocalProtocolError: h11 refused the request (a bad header, say).
        """
        key = tuple(head)
        try:
            checked = self._checked.get(key)
        except TypeError:  # a header given as a list, not a pair: unhashable, checked each time
            return h11.Request(method=method, target=target, headers=head)
        if checked is not None:
            return h11.Request(method=method, target=target, headers=checked)
        request = h11.Request(method=method, target=target, headers=head)
        if len(self._checked) >= self.LIMIT:
            self._checked.clear()
        self._checked[key] = request.headers
        return request


_END = h11.EndOfMessage()
"""The end of every request body (h11's events are immutable: one serves every request)."""


def request_bytes(
    state: h11.Connection,
    checked: CheckedHeaders,
    method: str,
    authority: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    content: bytes | None,
) -> bytes:
    """Return the bytes of one request on `state` (a `Host` header first, a `Content-Length` for
    a body that has none), its headers checked by h11 through `checked`.

    Raises:
        httpcore.LocalProtocolError: h11 refused the request (a bad header, say).
    """
    head = [("Host", authority), *headers]
    if content and not any(k.lower() == "content-length" for k, _ in headers):
        head.append(("Content-Length", str(len(content))))
    try:
        data = state.send(checked.request(method, target, head))
        if content:
            data += state.send(h11.Data(data=content))
        return data + state.send(_END)
    except h11.LocalProtocolError as exc:
        raise httpcore.LocalProtocolError(str(exc)) from exc


class ResponseReader:
    """Turns the h11 events of one response into a `Response` (informational 1xx responses
    skipped), refusing a body larger than `MAX_RESPONSE_BYTES`."""

    __slots__ = ("body", "headers", "state", "status")

    def __init__(self, state: h11.Connection) -> None:
        self.state = state
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        # The chunks are written into one buffer, whose `getvalue` hands its bytes over without
        # a copy: a large body is held once (joining a list of the chunks held it twice).
        self.body = io.BytesIO()

    def response(self) -> Response | None:
        """Return the whole response once h11 has parsed it; None while it needs more bytes.

        Raises:
            ResponseTooLarge: its body is announced or grows larger than `MAX_RESPONSE_BYTES`.
            httpcore.RemoteProtocolError: the server closed early or broke the protocol.
        """
        state = self.state
        try:
            while True:
                event = state.next_event()
                if event is h11.NEED_DATA:
                    return None
                if type(event) is h11.Data:
                    if self.body.tell() + len(event.data) > MAX_RESPONSE_BYTES:
                        raise ResponseTooLarge(_too_large("grew"))
                    self.body.write(event.data)
                elif type(event) is h11.Response:
                    self.status, self.headers = event.status_code, event.headers.raw_items()
                    _check_length(self.headers)
                elif type(event) is h11.EndOfMessage:
                    return Response(self.status, self.headers, self.body.getvalue())
                elif type(event) is h11.ConnectionClosed:
                    raise httpcore.RemoteProtocolError(self._disconnected())
        except h11.RemoteProtocolError as exc:
            if state.trailing_data[1] or not str(exc):  # the server closed the connection
                raise httpcore.RemoteProtocolError(self._disconnected()) from exc
            raise httpcore.RemoteProtocolError(f"the server broke HTTP/1.1: {exc}") from exc

    def _disconnected(self) -> str:
        if self.status:
            return "Server disconnected before the end of the response."
        return "Server disconnected without sending a response."


def _check_length(headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse a response whose `Content-Length` (a number: h11 checked it) passes the cap.

    Raises:
        ResponseTooLarge: it does.
    """
    for name, value in headers:  # as received: the list is at hand, h11's lower-cased view slower
        if (
            len(name) == 14
            and name.lower() == b"content-length"
            and int(value) > MAX_RESPONSE_BYTES
        ):
            raise ResponseTooLarge(_too_large(f"was announced as {int(value)} bytes"))


def _too_large(how: str) -> str:
    return (
        f"the response body {how}, larger than the client accepts"
        f" ({MAX_RESPONSE_BYTES} bytes, MAX_RESPONSE_BYTES)"
    )


def phase_timeout(
    clock: Callable[[], float],
    timeout: float | None,
    phase: str,
    deadline: float | None,
    error: type[Exception],
) -> float | None:
    """Return the seconds a phase may take: its `timeout`, clamped to what is left until
    `deadline` (a `clock` reading; None: none).

    Raises:
        error: nothing is left.
    """
    if deadline is None:
        return timeout
    left = deadline - clock()
    if left <= 0:
        raise error(f"the request ran out of time before its {phase} phase")
    return left if timeout is None else min(timeout, left)


def split_url(url: str) -> tuple[Origin, str, str]:
    """Return the origin of an absolute http(s) URL, its authority (the `Host` header) and the
    request target (path and query).

    Raises:
        httpcore.ConnectError: not an http(s) URL with a host.
    """
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    host, colon, port = authority.rpartition(":")
    if not colon or "]" in port:  # no port, or the last colon is inside an IPv6 address
        host, port = authority, ""
    if scheme not in _PORTS or not host:
        raise httpcore.ConnectError(f"not an http(s) URL: {url!r}")
    try:
        number = int(port) if port else _PORTS[scheme]
    except ValueError:
        raise httpcore.ConnectError(f"bad port in URL: {url!r}") from None
    return (scheme, host.strip("[]"), number), authority, slash + path if slash else "/"


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """Return the TLS context both pools verify servers with: the system's trust store plus
    certifi's certificates (what httpcore trusted), made once: loading them is costly."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    return context


def limits_of(
    extensions: Mapping[str, Any] | None, now: Callable[[], float]
) -> tuple[Timeouts, float | None]:
    """Return a request's per-phase timeouts and the deadline its ``"limit"`` sets on the clock
    `now` reads (None without one), from its httpcore-style `extensions`."""
    if not extensions:
        return NO_TIMEOUTS, None
    limit = extensions.get("limit")
    return extensions.get("timeout", NO_TIMEOUTS), None if limit is None else now() + limit
