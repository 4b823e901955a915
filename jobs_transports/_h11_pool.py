"""The async driver's HTTP/1.1 connection pool: h11 over native asyncio and trio streams.

Why not httpcore's `AsyncConnectionPool`, which this replaces: measured by
``python -m bench.anchor_bench`` (each client in its own process, one emulator, same run), bare
httpcore under asyncio, with nothing of this project around it, already did fewer `get`s per
second than relationalai's aiohttp client (0.74x) at almost twice its CPU per call (389 against
207 µs): no amount of trimming the driver around it (no task per request, no scan of its request
queue, no override of its private API) could reach the aiohttp client. Its cancellation safety
also needed a task and an anyio cancel scope per request, and an override of its private
connection assignment, pinned to one httpcore release (encode/httpcore#1093). This pool does the
same work in fewer steps: one h11 state machine per connection, a stream reading straight from
the transport's callbacks (asyncio) or the socket (trio), a FIFO of slots, no task per request.

Cancellation-safe by construction rather than by guards:
- a request holds a slot (`_h11_slots`) from start to end; `finally` gives it back;
- a connection belongs to one request at a time, and goes back to the idle list only when that
  request read its response to the end and h11 is ready for the next one; any other ending (a
  cancellation at any await, a timeout, an error) closes it, without awaiting anything;
- nothing else holds a connection: no background task, no queue of requests to scan.

`request` takes httpcore's arguments and raises httpcore's exception types, so the async driver
treats both alike. Its ``extensions["timeout"]`` bound the phases as `Timeouts` says: connect,
write and pool each, read the whole response (however slowly it trickles in); an optional
``extensions["limit"]`` (seconds) bounds the whole exchange, from the wait for a slot to the end
of the response.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import h11
import httpcore
import sniffio
import trio

from ._h11_slots import POOL_CLOSED, AsyncioSlots, Slots, TrioSlots
from ._h11_streams import AsyncioStream, Stream, TrioStream

Origin = tuple[str, str, int]
"""Scheme, host and port."""
Timeouts = Mapping[str, float | None]

_PORTS = {"http": 80, "https": 443}
_NO_TIMEOUTS: Timeouts = {}


class Connection:
    """One pooled connection: its stream, its h11 state and whether a request holds it."""

    __slots__ = ("busy", "closed", "h11", "origin", "stream")

    def __init__(self, origin: Origin, stream: Stream) -> None:
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

    def close(self) -> None:
        """Close it now (nothing awaited, so no cancellation can interrupt it)."""
        self.closed = True
        self.stream.close()

    def __repr__(self) -> str:
        state = "CLOSED" if self.closed else "ACTIVE" if self.busy else "IDLE"
        return f"<Connection [{self.origin[0]}://{self.origin[1]}:{self.origin[2]}, {state}]>"


class RequestLine:
    """What a request in flight is for (`H11Pool._requests` lists them)."""

    __slots__ = ("method", "url")

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url


class InFlight:
    """A request the pool is serving, and the connection it holds, if any yet."""

    __slots__ = ("connection", "request")

    def __init__(self, request: RequestLine) -> None:
        self.request = request
        self.connection: Connection | None = None


class Response:
    """A whole response: status, headers as received, body."""

    __slots__ = ("content", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content


class H11Pool:
    """Up to `max_connections` keep-alive HTTP/1.1 connections, under asyncio or trio.

    The event loop is found on the first request; the pool stays bound to that library.
    """

    def __init__(self, *, max_connections: int = 10, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self._tls = tls
        self._idle: list[Connection] = []
        self._requests: dict[InFlight, None] = {}
        self._slots: Slots | None = None
        self._trio = False
        self._closed = False

    @property
    def connections(self) -> list[Connection]:
        """Every open connection, idle or held by a request."""
        held = [r.connection for r in self._requests if r.connection is not None]
        return self._idle + [c for c in held if not c.closed]

    def _bind(self) -> Slots:
        self._trio = sniffio.current_async_library() == "trio"
        slots: Slots = (
            TrioSlots(self.max_connections) if self._trio else AsyncioSlots(self.max_connections)
        )
        self._slots = slots
        return slots

    def _clock(self) -> float:
        if self._trio:
            return trio.current_time()
        return asyncio.get_running_loop().time()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        content: bytes | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Response:
        """Return the response to one request, read to the end.

        `extensions`: ``{"timeout": {"connect", "read", "write", "pool"}}`` in seconds, and an
        optional ``"limit"`` in seconds (see the module docstring).

        Raises:
            httpcore.PoolTimeout: no slot came free in time.
            httpcore.ConnectError, httpcore.ConnectTimeout: no connection (or the pool closed).
            httpcore.WriteError, httpcore.WriteTimeout, httpcore.ReadError,
            httpcore.ReadTimeout, httpcore.RemoteProtocolError: no whole response.
        """
        if self._closed:
            raise httpcore.ConnectError(POOL_CLOSED)
        slots = self._slots or self._bind()
        timeouts: Timeouts = _NO_TIMEOUTS
        deadline = None
        if extensions:
            timeouts = extensions.get("timeout", _NO_TIMEOUTS)
            limit = extensions.get("limit")
            if limit is not None:
                deadline = self._clock() + limit
        origin, authority, target = _split(url)
        flight = InFlight(RequestLine(method, url))
        self._requests[flight] = None
        try:
            await slots.acquire(self._timeout(timeouts, "pool", deadline, httpcore.PoolTimeout))
            try:
                head = [("Host", authority), *headers]
                if content and not any(k.lower() == "content-length" for k, _ in headers):
                    head.append(("Content-Length", str(len(content))))
                return await self._exchange(
                    flight, origin, method, target, head, content, timeouts, deadline
                )
            finally:
                slots.release()
        finally:
            del self._requests[flight]

    def _timeout(
        self, timeouts: Timeouts, phase: str, deadline: float | None, error: type[Exception]
    ) -> float | None:
        timeout = timeouts.get(phase)
        if deadline is None:
            return timeout
        left = deadline - self._clock()
        if left <= 0:
            raise error(f"the request ran out of time before its {phase} phase")
        return left if timeout is None else min(timeout, left)

    async def _exchange(
        self,
        flight: InFlight,
        origin: Origin,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Response:
        connection = flight.connection = await self._connection_for(origin, timeouts, deadline)
        done = False
        try:
            response = await self._send_and_receive(
                connection, method, target, headers, content, timeouts, deadline
            )
            done = True
        finally:
            state = connection.h11
            reusable = state.our_state is h11.DONE and state.their_state is h11.DONE
            if done and reusable and not self._closed:
                state.start_next_cycle()
                connection.busy = False
                self._idle.append(connection)
            else:
                connection.close()
            flight.connection = None
        return response

    async def _connection_for(
        self, origin: Origin, timeouts: Timeouts, deadline: float | None
    ) -> Connection:
        # The most recently used first: the least likely to be stale. Idle connections to other
        # origins (a token exchange at the account's host) stay for their own origin's requests.
        for index in range(len(self._idle) - 1, -1, -1):
            connection = self._idle[index]
            if connection.origin != origin:
                continue
            del self._idle[index]
            if connection.stream.reusable():
                connection.busy = True
                return connection
            connection.close()
        # A new connection: close the oldest idle ones (other origins) that would take the pool
        # past `max_connections` open connections (this request's slot is already taken).
        free = self._slots.free if self._slots is not None else 0
        while len(self._idle) > free:
            self._idle.pop(0).close()
        timeout = self._timeout(timeouts, "connect", deadline, httpcore.ConnectTimeout)
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        connect = TrioStream.connect if self._trio else AsyncioStream.connect
        stream: Stream = await connect(host, port, tls, timeout)
        if self._closed:  # closed while this connection was being made
            stream.close()
            raise httpcore.ConnectError(POOL_CLOSED)
        return Connection(origin, stream)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def _send_and_receive(
        self,
        connection: Connection,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Response:
        state, stream = connection.h11, connection.stream
        try:
            data = state.send(h11.Request(method=method, target=target, headers=headers))
            if content:
                data += state.send(h11.Data(data=content))
            data += state.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise httpcore.LocalProtocolError(str(exc)) from exc
        await stream.send(data, self._timeout(timeouts, "write", deadline, httpcore.WriteTimeout))
        # `read` bounds the whole response: each read gets what is left of it.
        read = timeouts.get("read")
        if read is not None:
            read_ends = self._clock() + read
            deadline = read_ends if deadline is None else min(deadline, read_ends)
        status, received, chunks = 0, [], []
        try:
            while True:
                event = state.next_event()
                if event is h11.NEED_DATA:
                    timeout = self._timeout(_NO_TIMEOUTS, "read", deadline, httpcore.ReadTimeout)
                    state.receive_data(await stream.receive(timeout))
                elif type(event) is h11.Data:
                    chunks.append(event.data)
                elif type(event) is h11.Response:
                    status, received = event.status_code, event.headers.raw_items()
                elif type(event) is h11.EndOfMessage:
                    return Response(status, received, b"".join(chunks))
                elif type(event) is h11.ConnectionClosed:
                    raise httpcore.RemoteProtocolError(_disconnected(status))
        except h11.RemoteProtocolError as exc:
            raise httpcore.RemoteProtocolError(_disconnected(status)) from exc

    async def aclose(self) -> None:
        """Close every connection, failing the requests in flight; refuse new requests."""
        self._closed = True
        if self._slots is not None:
            self._slots.close()
        for connection in self.connections:
            connection.close()
        self._idle.clear()

    async def __aenter__(self) -> H11Pool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _disconnected(status: int) -> str:
    if status:
        return "Server disconnected before the end of the response."
    return "Server disconnected without sending a response."


def _split(url: str) -> tuple[Origin, str, str]:
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
