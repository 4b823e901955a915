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
  request read its response to the end, nothing came after it, and h11 is ready for the next
  one; any other ending (a cancellation at any await, a timeout, an error) closes it, without
  awaiting anything;
- nothing else holds a connection: no background task, no queue of requests to scan.

`aclose` ends every request in flight at once, which is how closing a client stops its calls:
waits for a slot and connects fail with `ConnectError`, exchanges with a read or write error
(their connections closed under them).

`request` takes httpcore's arguments and raises httpcore's exception types, so the async driver
treats both alike. Its ``extensions["timeout"]`` bound the phases as `Timeouts` says: connect,
write and pool each, read the whole response (however slowly it trickles in); an optional
``extensions["limit"]`` (seconds) bounds the whole exchange, from the wait for a slot to the end
of the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import httpcore
import sniffio
import trio

from ._h11_exchange import (
    EXCHANGE_ERRORS,
    NO_TIMEOUTS,
    POOL_CLOSED,
    CheckedHeaders,
    InFlight,
    Origin,
    RequestLine,
    Response,
    ResponseReader,
    Timeouts,
    default_tls_context,
    limits_of,
    phase_timeout,
    request_bytes,
    split_url,
)
from ._h11_exchange import Connection as _Connection
from ._h11_slots import AsyncioSlots, Slots, TrioSlots
from ._h11_streams import AsyncioStream, Stream, trio_connect

Connection = _Connection[Stream]


class H11Pool:
    """Up to `max_connections` keep-alive HTTP/1.1 connections, under asyncio or trio.

    The event loop is found on the first request; the pool stays bound to that library.
    """

    def __init__(self, *, max_connections: int = 10, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self._tls = tls
        self._idle: list[Connection] = []
        self._requests: dict[InFlight[Stream], None] = {}
        self._slots: Slots | None = None
        self._connecting: set[anyio.CancelScope] = set()
        self._checked = CheckedHeaders()
        self._trio = False
        # The event loop's clock, once bound to it (asyncio's loop clock is this one).
        self._clock: Callable[[], float] = time.monotonic
        self._closed = False

    @property
    def connections(self) -> list[Connection]:
        """Every open connection, idle or held by a request."""
        held = [r.connection for r in self._requests if r.connection is not None]
        return self._idle + [c for c in held if not c.closed]

    def _bind(self) -> Slots:
        self._trio = sniffio.current_async_library() == "trio"
        self._clock = trio.current_time if self._trio else asyncio.get_running_loop().time
        slots: Slots = (
            TrioSlots(self.max_connections) if self._trio else AsyncioSlots(self.max_connections)
        )
        self._slots = slots
        return slots

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
        timeouts, deadline = limits_of(extensions, self._clock)
        origin, authority, target = split_url(url)
        flight: InFlight[Stream] = InFlight(RequestLine(method, url))
        self._requests[flight] = None
        try:
            await slots.acquire(self._timeout(timeouts, "pool", deadline, httpcore.PoolTimeout))
            try:
                return await self._exchange(
                    flight,
                    origin,
                    method,
                    (authority, target, headers, content),
                    timeouts,
                    deadline,
                )
            finally:
                slots.release()
        finally:
            del self._requests[flight]

    def _timeout(
        self, timeouts: Timeouts, phase: str, deadline: float | None, error: type[Exception]
    ) -> float | None:
        return phase_timeout(self._clock, timeouts.get(phase), phase, deadline, error)

    async def _exchange(
        self,
        flight: InFlight[Stream],
        origin: Origin,
        method: str,
        request: tuple[str, str, Sequence[tuple[str, str]], bytes | None],
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Response:
        connection = flight.connection = await self._connection_for(origin, timeouts, deadline)
        done = False
        try:
            response = await self._send_and_receive(
                connection,
                request_bytes(connection.h11, self._checked, method, *request),
                timeouts,
                deadline,
            )
            done = True
        finally:
            if done and connection.is_reusable() and not self._closed:
                connection.h11.start_next_cycle()
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
        tls = (self._tls or default_tls_context()) if scheme == "https" else None
        connect = trio_connect if self._trio else AsyncioStream.connect
        # A close ends a connect at once, as it ends every other wait in here (a connect is the
        # one wait that no closed stream or slot queue ends): the pool cancels this scope.
        with anyio.CancelScope() as connecting:
            self._connecting.add(connecting)
            try:
                stream: Stream = await connect(host, port, tls, timeout)
            finally:
                self._connecting.discard(connecting)
        if self._closed:  # closed while this connection was being made
            if not connecting.cancelled_caught:
                stream.close()
            raise httpcore.ConnectError(POOL_CLOSED)
        return Connection(origin, stream)

    async def _send_and_receive(
        self, connection: Connection, data: bytes, timeouts: Timeouts, deadline: float | None
    ) -> Response:
        write = self._timeout(timeouts, "write", deadline, httpcore.WriteTimeout)
        try:
            await connection.stream.send(data, write)
        except httpcore.WriteError:
            # The server may have answered before taking the whole request (a 413), then closed
            # the connection: its answer is still there to read. The connection is never reused.
            connection.h11.send_failed()
            with contextlib.suppress(*EXCHANGE_ERRORS):
                return await self._receive(connection, timeouts, deadline)
            raise  # no answer: the write's failure says what went wrong
        return await self._receive(connection, timeouts, deadline)

    async def _receive(
        self, connection: Connection, timeouts: Timeouts, deadline: float | None
    ) -> Response:
        # `read` bounds the whole response: each read gets what is left of it.
        read = timeouts.get("read")
        if read is not None:
            read_ends = self._clock() + read
            deadline = read_ends if deadline is None else min(deadline, read_ends)
        reader = ResponseReader(connection.h11)
        while (response := reader.response()) is None:
            timeout = self._timeout(NO_TIMEOUTS, "read", deadline, httpcore.ReadTimeout)
            connection.h11.receive_data(await connection.stream.receive(timeout))
        return response

    async def aclose(self) -> None:
        """Close every connection, failing the requests in flight; refuse new requests."""
        self._closed = True
        if self._slots is not None:
            self._slots.close()
        for connecting in self._connecting:
            connecting.cancel()
        for connection in self.connections:
            connection.close()
        self._idle.clear()

    async def __aenter__(self) -> H11Pool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
