"""The sync driver's HTTP/1.1 connection pool: h11 over blocking sockets, shared by threads.

Why not httpcore's `ConnectionPool`, which this replaces: measured by ``python -m
bench.anchor_bench`` (each client in its own process, one emulator, same run), bare httpcore spent
~177 µs of CPU per `get` where h11 over one plain socket spent ~64 µs; wrapped in the time limits
the driver needs (httpcore bounds one socket operation at a time, so they took a network backend
and a stream wrapper of their own), it left no room for the client's own work: the sync `get`
ran at 0.75-0.84x bare httpcore's rate. This pool does the same work in fewer steps, the same way
as the async one (`_h11_pool`, whose pure parts `_h11_exchange` it shares).

- A request holds a slot from start to end (at most `max_connections` at once; the wait for one
  is bounded by the pool timeout); `finally` gives it back.
- A connection belongs to one request at a time, and goes back to the idle list only when that
  request read its response to the end, nothing came after it, and h11 is ready for the next
  one; any other ending (an error, a timeout, a KeyboardInterrupt) closes it. A response body is
  at most `MAX_RESPONSE_BYTES` (see `_h11_exchange`).
- Time limits as in `_h11_pool`: ``extensions["timeout"]`` bounds connect, write and pool each,
  and read the whole response (however slowly it trickles in); ``extensions["limit"]`` bounds the
  whole exchange. Each socket operation gets what is left.
- `close` (from any thread) refuses new requests, fails the waits for a slot, and shuts every
  socket down, connecting ones included, which wakes a thread blocked on it: the requests in
  flight stop at once.
- The child of a fork lets go of the parent's connections and opens its own: one connection
  used by two processes would hand each the other's answers.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpcore

from ._fork_safety import start_afresh_after_fork
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
from ._socket_readiness import is_readable

# Bytes asked for per receive: a whole response of this API fits in one read.
_READ_SIZE = 65_536


def _why(exc: OSError) -> str:
    return str(exc) or type(exc).__name__


class Connects:
    """The sockets connecting now, for `close` to shut down from another thread: nothing else
    wakes a thread blocked in `connect`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False

    def open(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """Return a socket connected to `host`:`port`, trying each of its addresses in turn (as
        `socket.create_connection` does) within `timeout` each.

        Raises:
            OSError: no address answered, or `close` was called.
        """
        failure: OSError = ConnectionAbortedError(POOL_CLOSED)
        for family, kind, proto, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        ):
            sock = socket.socket(family, kind, proto)
            with self._lock:
                if self._closed:
                    sock.close()
                    break
                self._sockets.add(sock)
            try:
                sock.settimeout(timeout)
                sock.connect(address)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            finally:
                with self._lock:
                    self._sockets.discard(sock)
            return sock
        raise failure

    def close(self) -> None:
        """Shut down every socket connecting now (their `connect` fails), and refuse to open
        more."""
        with self._lock:
            self._closed = True
            connecting = list(self._sockets)
        for sock in connecting:
            with contextlib.suppress(OSError):  # connected or failed meanwhile: closed later
                sock.shutdown(socket.SHUT_RDWR)


class SocketStream:
    """One blocking connection: a TCP socket, wrapped in TLS for https."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock

    @classmethod
    def connect(
        cls,
        connects: Connects,
        host: str,
        port: int,
        tls: ssl.SSLContext | None,
        timeout: float | None,
    ) -> SocketStream:
        """Return a stream connected to `host`:`port` (TLS when `tls` is given) within `timeout`,
        opened by `connects`.

        Raises:
            httpcore.ConnectTimeout, httpcore.ConnectError: no connection.
        """
        sock: socket.socket | None = None
        try:
            sock = connects.open(host, port, timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)  # handshake within `timeout`
        except TimeoutError as exc:
            if sock is not None:
                sock.close()
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in {timeout}s") from exc
        except OSError as exc:
            if sock is not None:
                sock.close()
            raise httpcore.ConnectError(_why(exc)) from exc
        return cls(sock)

    def send(self, data: bytes, timeout: float | None) -> None:
        """Send all of `data` within `timeout` seconds.

        Raises:
            httpcore.WriteTimeout, httpcore.WriteError: it could not be sent.
        """
        try:
            self._socket.settimeout(timeout)
            self._socket.sendall(data)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout() from exc
        except OSError as exc:
            raise httpcore.WriteError(_why(exc)) from exc

    def receive(self, timeout: float | None) -> bytes:
        """Return the bytes received so far, waiting up to `timeout` seconds for some; b"" once
        the peer has closed.

        Raises:
            httpcore.ReadTimeout, httpcore.ReadError: nothing came in time, or the read failed.
        """
        try:
            self._socket.settimeout(timeout)
            return self._socket.recv(_READ_SIZE)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout() from exc
        except OSError as exc:
            raise httpcore.ReadError(_why(exc)) from exc

    def reusable(self) -> bool:
        """True while the peer has neither closed nor sent anything unasked for."""
        sock = self._socket
        if sock.fileno() == -1:
            return False
        return not is_readable(sock)

    def close(self) -> None:
        """Shut the socket down (waking a thread blocked on it), then close it."""
        with contextlib.suppress(OSError):  # already shut down, or never connected
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()

    def let_go(self) -> None:
        """Close this process's descriptor of the socket without shutting the connection down:
        another process holding it (the parent of a fork) keeps using it."""
        self._socket.close()


Connection = _Connection[SocketStream]


class BlockingSlots:
    """At most N requests at once; the others wait (up to the pool timeout) for a slot."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._changed = threading.Condition()
        self._closed = False

    def acquire(self, timeout: float | None) -> None:
        """Return once a slot is this caller's.

        Raises:
            httpcore.PoolTimeout: none came free within `timeout` seconds.
            httpcore.ConnectError: the pool was closed meanwhile.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: self.free > 0 or self._closed, timeout):
                raise httpcore.PoolTimeout()
            if self._closed:
                raise httpcore.ConnectError(POOL_CLOSED)
            self.free -= 1

    def release(self) -> None:
        """Give a slot back, waking one waiter."""
        with self._changed:
            self.free += 1
            self._changed.notify()

    def close(self) -> None:
        """Fail every waiter, and every later `acquire`, with `ConnectError`."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class BlockingPool:
    """Up to `max_connections` keep-alive HTTP/1.1 connections, used by any number of threads."""

    def __init__(self, *, max_connections: int = 10, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self._tls = tls
        self._slots = BlockingSlots(max_connections)
        self._connects = Connects()
        self._checked = CheckedHeaders()
        # Guards `_idle`, `_requests`, the connections they hold and `_closed`.
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        self._requests: dict[InFlight[SocketStream], None] = {}
        self._closed = False
        start_afresh_after_fork(self)

    @property
    def connections(self) -> list[Connection]:
        """Every open connection, idle or held by a request."""
        with self._lock:
            held = [r.connection for r in self._requests if r.connection is not None]
            return self._idle + [c for c in held if not c.closed]

    def request(
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
        timeouts, deadline = limits_of(extensions, time.monotonic)
        origin, authority, target = split_url(url)
        flight: InFlight[SocketStream] = InFlight(RequestLine(method, url))
        with self._lock:
            self._requests[flight] = None
        try:
            self._slots.acquire(_timeout(timeouts, "pool", deadline, httpcore.PoolTimeout))
            try:
                connection = self._connection_for(flight, origin, timeouts, deadline)
                return self._exchange(
                    flight,
                    connection,
                    request_bytes(
                        connection.h11, self._checked, method, authority, target, headers, content
                    ),
                    timeouts,
                    deadline,
                )
            finally:
                self._slots.release()
        finally:
            with self._lock:
                del self._requests[flight]

    def _exchange(
        self,
        flight: InFlight[SocketStream],
        connection: Connection,
        data: bytes,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Response:
        done = False
        try:
            response = self._send_and_receive(connection, data, timeouts, deadline)
            done = True
        finally:
            with self._lock:
                keep = done and connection.is_reusable() and not self._closed
                if keep:
                    connection.h11.start_next_cycle()
                    connection.busy = False
                    self._idle.append(connection)
                flight.connection = None
            if not keep:
                connection.close()
        return response

    def _connection_for(
        self,
        flight: InFlight[SocketStream],
        origin: Origin,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Connection:
        # The most recently used first: the least likely to be stale. Idle connections to other
        # origins (a token exchange at the account's host) stay for their own origin's requests.
        stale: list[Connection] = []
        try:
            with self._lock:
                for index in range(len(self._idle) - 1, -1, -1):
                    connection = self._idle[index]
                    if connection.origin != origin:
                        continue
                    del self._idle[index]
                    if connection.stream.reusable():
                        connection.busy = True
                        flight.connection = connection
                        return connection
                    stale.append(connection)
                # A new connection: close the oldest idle ones (other origins) that would take
                # the pool past `max_connections` open connections (this request holds a slot).
                while len(self._idle) > self._slots.free:
                    stale.append(self._idle.pop(0))
        finally:
            for connection in stale:
                connection.close()
        timeout = _timeout(timeouts, "connect", deadline, httpcore.ConnectTimeout)
        scheme, host, port = origin
        tls = (self._tls or default_tls_context()) if scheme == "https" else None
        connection = Connection(
            origin, SocketStream.connect(self._connects, host, port, tls, timeout)
        )
        with self._lock:
            closed = self._closed
            if not closed:
                flight.connection = connection
        if closed:  # closed while this connection was being made: `close` did not see it
            connection.close()
            raise httpcore.ConnectError(POOL_CLOSED)
        return connection

    def _send_and_receive(
        self, connection: Connection, data: bytes, timeouts: Timeouts, deadline: float | None
    ) -> Response:
        try:
            connection.stream.send(
                data, _timeout(timeouts, "write", deadline, httpcore.WriteTimeout)
            )
        except httpcore.WriteError:
            # The server may have answered before taking the whole request (a 413), then closed
            # the connection: its answer is still there to read. The connection is never reused.
            connection.h11.send_failed()
            with contextlib.suppress(*EXCHANGE_ERRORS):
                return self._receive(connection, timeouts, deadline)
            raise  # no answer: the write's failure says what went wrong
        return self._receive(connection, timeouts, deadline)

    def _receive(
        self, connection: Connection, timeouts: Timeouts, deadline: float | None
    ) -> Response:
        # `read` bounds the whole response: each read gets what is left of it.
        read = timeouts.get("read")
        if read is not None:
            read_ends = time.monotonic() + read
            deadline = read_ends if deadline is None else min(deadline, read_ends)
        reader = ResponseReader(connection.h11)
        while (response := reader.response()) is None:
            timeout = _timeout(NO_TIMEOUTS, "read", deadline, httpcore.ReadTimeout)
            connection.h11.receive_data(connection.stream.receive(timeout))
        return response

    def start_afresh(self) -> None:
        """In the child of a fork: let go of the parent's connections and start again.

        A connection both processes used would hand one process the answers to the other's
        requests, so the child opens its own; it lets go of the parent's without shutting them
        down, which would end them for the parent too. The locks and slots are new: a thread of
        the parent may have held them at the fork, and it does not exist in the child.
        """
        held = [r.connection for r in self._requests if r.connection is not None]
        for connection in self._idle + held:
            connection.stream.let_go()
        self._lock = threading.Lock()
        self._slots = BlockingSlots(self.max_connections)
        self._connects = Connects()
        self._idle = []
        self._requests = {}
        if self._closed:
            self._slots.close()
            self._connects.close()

    def close(self) -> None:
        """Close every connection, stopping the requests in flight in any thread; refuse new
        requests."""
        self._slots.close()
        self._connects.close()
        with self._lock:
            self._closed = True
            held = [r.connection for r in self._requests if r.connection is not None]
            connections = self._idle + held
            self._idle = []
        for connection in connections:
            if not connection.closed:
                connection.close()

    def __enter__(self) -> BlockingPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _timeout(
    timeouts: Timeouts, phase: str, deadline: float | None, error: type[Exception]
) -> float | None:
    return phase_timeout(time.monotonic, timeouts.get(phase), phase, deadline, error)
