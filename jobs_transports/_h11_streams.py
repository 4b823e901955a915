"""Byte streams for the async pool: one TCP (or TLS) connection, on asyncio or on trio.

Each stream sends, receives with a timeout, and closes at once without awaiting anything, so
that closing can never be cut short by a cancellation. Failures are httpcore's exception types
(`ConnectError`, `ReadTimeout`...), which `as_transport_error` already translates for the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import sys
from typing import Any, Protocol

import httpcore
import trio

from ._socket_readiness import is_readable

# Bytes asked for per receive: a whole response of this API fits in one read.
_READ_SIZE = 65_536
# Bytes an asyncio stream holds before its transport stops reading until `receive` takes them: a
# server flooding a connection no request reads (an idle one) fills the kernel's buffers, not
# this process's memory.
_HIGH_WATER = 4 * _READ_SIZE
_FOREVER = float("inf")
_SOCKET_ERRORS = (OSError, trio.ClosedResourceError)


class Stream(Protocol):
    """One connection's bytes in both directions."""

    async def send(self, data: bytes, timeout: float | None) -> None:
        """Send all of `data`.

        Raises:
            httpcore.WriteTimeout, httpcore.WriteError: it could not be sent.
        """
        ...

    async def receive(self, timeout: float | None) -> bytes:
        """Return the bytes received so far, waiting for some; b"" once the peer has closed.

        Raises:
            httpcore.ReadTimeout, httpcore.ReadError: nothing came in time, or the read failed.
        """
        ...

    def reusable(self) -> bool:
        """True while the peer has neither closed nor sent anything unasked for."""
        ...

    def close(self) -> None:
        """Close the connection now; any receive or send waiting on it fails.

        Also outside the event loop the stream was made in, that loop over (a client closed in
        another loop than it was used in): the connection is then ended without the loop.
        """
        ...


def _why(exc: BaseException) -> str:
    # Trio's BrokenResourceError says no more than its name; what broke is its cause.
    reason = exc.__cause__ if isinstance(exc, trio.BrokenResourceError) and exc.__cause__ else exc
    return str(reason) or type(reason).__name__


def _trio_runs() -> bool:
    """Return whether a trio run is in progress in this thread: closing a trio socket goes
    through trio's I/O manager, which exists only then."""
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True


def _expire(waiter: asyncio.Future[None], error: type[Exception]) -> None:
    if not waiter.done():
        waiter.set_exception(error())


class AsyncioStream(asyncio.Protocol):
    """A connection under asyncio: its transport's callbacks wake the one waiting call.

    Timeouts are timers that fail the awaited future rather than cancellations of the task, so
    a timeout never races the caller's own cancellation, and no task is made per request.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        # The transport's socket (an asyncio `TransportSocket`): `reusable` looks at it.
        self._socket: Any = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._closed = False
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writable = True

    @classmethod
    async def connect(
        cls, host: str, port: int, tls: ssl.SSLContext | None, timeout: float | None
    ) -> AsyncioStream:
        """Return a stream connected to `host`:`port` (TLS when `tls` is given).

        Raises:
            httpcore.ConnectTimeout, httpcore.ConnectError: no connection.
        """
        loop = asyncio.get_running_loop()
        stream = cls()
        connecting = loop.create_connection(
            lambda: stream, host, port, ssl=tls, server_hostname=host if tls else None
        )
        try:
            if sys.version_info >= (3, 11):
                async with asyncio.timeout(timeout):
                    await connecting
            else:
                await asyncio.wait_for(connecting, timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in {timeout}s") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(_why(exc)) from exc
        return stream

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._socket = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered >= _HIGH_WATER and self._transport is not None:
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._closed = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._transport = None  # gone: asyncio's transport fails if aborted after this
        if exc is not None and self._error is None:
            self._error = exc
        self._wake()

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self, timeout: float | None, error: type[Exception]) -> None:
        waiter = self._waiter = self._loop.create_future()
        timer = None if timeout is None else self._loop.call_later(timeout, _expire, waiter, error)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def send(self, data: bytes, timeout: float | None) -> None:
        if self._closed or self._transport is None or self._transport.is_closing():
            raise httpcore.WriteError(self._why_closed())
        self._transport.write(data)
        while not self._writable and not self._closed:
            await self._wait(timeout, httpcore.WriteTimeout)
        if self._error is not None:
            raise httpcore.WriteError(self._why_closed())

    async def receive(self, timeout: float | None) -> bytes:
        if not self._chunks and not self._closed:
            await self._wait(timeout, httpcore.ReadTimeout)
        if self._chunks:
            data = b"".join(self._chunks)
            self._chunks.clear()
            if self._buffered >= _HIGH_WATER and self._transport is not None:
                self._transport.resume_reading()
            self._buffered = 0
            return data
        if self._error is not None:
            raise httpcore.ReadError(self._why_closed())
        return b""

    def _why_closed(self) -> str:
        return str(self._error) if self._error is not None else "connection closed"

    def reusable(self) -> bool:
        transport = self._transport
        if self._closed or self._chunks or transport is None or transport.is_closing():
            return False
        # Bytes the event loop has not read yet (it may not have run since they came) count too.
        return not is_readable(self._socket)

    def close(self) -> None:
        self._closed = True
        if self._error is None:
            self._error = ConnectionAbortedError("connection closed by the client")
        if self._transport is not None:
            if self._loop.is_closed():
                # The loop can no longer run the transport's close (abort raises RuntimeError):
                # shut the connection down so that the server sees it end now; the transport
                # frees the descriptor when it is collected.
                with contextlib.suppress(OSError):
                    self._socket.shutdown(socket.SHUT_RDWR)
                self._transport = None
                return
            self._transport.abort()
        self._wake()


async def trio_connect(
    host: str, port: int, tls: ssl.SSLContext | None, timeout: float | None
) -> Stream:
    """Return a trio stream connected to `host`:`port` (TLS when `tls` is given).

    Raises:
        httpcore.ConnectTimeout, httpcore.ConnectError: no connection.
    """
    tcp: trio.SocketStream | None = None
    with trio.move_on_after(_FOREVER if timeout is None else timeout) as scope:
        try:
            tcp = await trio.open_tcp_stream(host, port)  # TCP_NODELAY set
            if tls is None:
                return TrioTcpStream(socket.socket(fileno=tcp.socket.detach()))
            secure = trio.SSLStream(tcp, tls, server_hostname=host)
            await secure.do_handshake()
            return TrioTlsStream(secure)
        except (OSError, trio.BrokenResourceError) as exc:
            if tcp is not None:
                tcp.socket.close()
            raise httpcore.ConnectError(_why(exc)) from exc
        except BaseException:
            if tcp is not None:
                tcp.socket.close()
            raise
    assert scope.cancelled_caught
    if tcp is not None:
        tcp.socket.close()
    raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in {timeout}s")


class TrioTcpStream:
    """A plain TCP connection under trio: the socket's own calls between trio's readiness waits.

    Why not `trio.SocketStream`: each of its calls passes through trio's scheduler even when the
    kernel answers at once (two extra trips and a cancel scope per request, a third of the trio
    pool's CPU per call). Here a send the kernel takes whole does not wait, and a receive waits
    once for the socket to be readable: that wait is the exchange's checkpoint (cancellation and
    scheduling), as every request reaches it (the pool reads a response after each send).
    """

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        # trio's view of the same socket: it makes the socket non-blocking, checks readiness, and
        # closes it waking any task waiting on it.
        self._trio = trio.socket.from_stdlib_socket(sock)

    async def send(self, data: bytes, timeout: float | None) -> None:
        try:
            view = memoryview(data)[self._send_now(data) :]
            if not view:
                return
            with trio.move_on_after(_FOREVER if timeout is None else timeout):
                while view:
                    await trio.lowlevel.wait_writable(self._socket)
                    view = view[self._send_now(view) :]
                return
        except _SOCKET_ERRORS as exc:
            raise httpcore.WriteError(_why(exc)) from exc
        raise httpcore.WriteTimeout()

    def _send_now(self, data: bytes | memoryview) -> int:
        try:
            return self._socket.send(data)
        except BlockingIOError:  # the socket's buffer is full: wait until it is writable
            return 0

    async def receive(self, timeout: float | None) -> bytes:
        with trio.move_on_after(_FOREVER if timeout is None else timeout):
            try:
                while True:
                    await trio.lowlevel.wait_readable(self._socket)
                    try:
                        return self._socket.recv(_READ_SIZE)
                    except BlockingIOError:  # woken for nothing: wait again
                        continue
            except _SOCKET_ERRORS as exc:
                raise httpcore.ReadError(_why(exc)) from exc
        raise httpcore.ReadTimeout()

    def reusable(self) -> bool:
        return self._socket.fileno() != -1 and not self._trio.is_readable()

    def close(self) -> None:
        if _trio_runs():
            self._trio.close()  # wakes any task waiting on the socket
        else:
            self._socket.close()  # the run is over: no task waits, and trio cannot be asked


class TrioTlsStream:
    """A TLS connection under trio: a `trio.SSLStream` over a TCP `trio.SocketStream`."""

    def __init__(self, stream: trio.SSLStream[trio.SocketStream]) -> None:
        self._stream = stream
        self._socket = stream.transport_stream.socket

    async def send(self, data: bytes, timeout: float | None) -> None:
        with trio.move_on_after(_FOREVER if timeout is None else timeout):
            try:
                await self._stream.send_all(data)
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise httpcore.WriteError(_why(exc)) from exc
            return
        raise httpcore.WriteTimeout()

    async def receive(self, timeout: float | None) -> bytes:
        with trio.move_on_after(_FOREVER if timeout is None else timeout):
            try:
                return bytes(await self._stream.receive_some(_READ_SIZE))
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise httpcore.ReadError(_why(exc)) from exc
        raise httpcore.ReadTimeout()

    def reusable(self) -> bool:
        # `SSLStream` reads what the socket holds, and hands it out a TLS record per receive: the
        # records past a response wait in its buffer of incoming bytes, which no public attribute
        # shows (its `pending()` counts only decrypted bytes). Should a trio release rename that
        # private buffer, the connection is not reused: slower, never out of step.
        stream = self._stream
        incoming = getattr(stream, "_incoming", None)
        if incoming is None or incoming.pending or stream.pending():
            return False
        return self._socket.fileno() != -1 and not self._socket.is_readable()

    def close(self) -> None:
        if _trio_runs():
            self._socket.close()
        else:  # the run is over (see `TrioTcpStream.close`); a trio socket gives its descriptor up
            os.close(self._socket.detach())
