"""The network under the sync driver's httpcore pool: time limits on a whole HTTP exchange, and a
close that stops it (the async driver's own pool, `_h11_pool`, does both itself).

httpcore applies its timeouts to one socket operation at a time, so a server that trickles a
byte at a time never trips a read timeout. The network backends here clamp every connect, read
and write to what is left of the exchange: of its whole limit (`Timeouts.total`, or the time the
call's deadline leaves, whichever is less) and of the time allowed for the whole response
(`Timeouts.read`, counted from the first read). When nothing is left they raise httpcore's own
timeout, so httpcore closes the connection and the pool never keeps a half-read one.

Closing a backend (when its client closes) refuses new connections, and closing a blocking
stream shuts its socket down first, which wakes a thread blocked reading it: a pool closed from
another thread stops the requests in flight instead of leaving them to their timeouts.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import ssl
import time
import typing
from collections.abc import Callable, Iterable, Iterator

import attrs
import httpcore

from jobs_core import TransportError

from ._http_target import Timeouts

TimeoutClass = type[httpcore.TimeoutException]


@attrs.define
class Exchange:
    """What is left of one exchange's time, on `clock`."""

    clock: Callable[[], float]
    ends_at: float | None
    read_s: float | None
    read_ends_at: float | None = None

    def left(
        self, timeout: float | None, error: TimeoutClass, *, reading: bool = False
    ) -> float | None:
        """Return the timeout for the next socket operation: `timeout` clamped to what is left.

        Raises:
            httpcore.TimeoutException: (as `error`) nothing is left.
        """
        now = self.clock()
        left = timeout
        ends = self.ends_at
        if reading:
            if self.read_ends_at is None and self.read_s is not None:
                self.read_ends_at = now + self.read_s
            if self.read_ends_at is not None and (ends is None or self.read_ends_at < ends):
                ends = self.read_ends_at
        if ends is not None and (left is None or ends - now < left):
            left = ends - now
        if left is not None and left <= 0:
            raise error("the request ran out of time (whole-request timeout or call deadline)")
        return left


_EXCHANGE: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "jobs_transports_exchange", default=None
)


def _left(timeout: float | None, error: TimeoutClass, *, reading: bool = False) -> float | None:
    exchange = _EXCHANGE.get()
    if exchange is None:
        return timeout
    return exchange.left(timeout, error, reading=reading)


@contextlib.contextmanager
def limited_exchange(
    timeouts: Timeouts, time_left: float | None, clock: Callable[[], float]
) -> Iterator[dict[str, float | None]]:
    """Run one exchange under `timeouts` and the `time_left` a deadline gives it.

    Yields httpcore's ``timeout`` extension for the request (its pool wait clamped too).

    Raises:
        TransportError: the time was up before the request was sent (``request_sent=False``).
    """
    limit = min((t for t in (timeouts.total, time_left) if t is not None), default=None)
    if limit is not None and limit <= 0:
        raise TransportError(
            "the call's deadline passed before the request was sent",
            request_sent=False,
            timeout=True,
        )
    now = clock()
    exchange = Exchange(clock, None if limit is None else now + limit, timeouts.read)
    extension = timeouts.as_extension()
    if limit is not None and (extension["pool"] is None or extension["pool"] > limit):
        extension["pool"] = limit
    token = _EXCHANGE.set(exchange)
    try:
        yield extension
    finally:
        _EXCHANGE.reset(token)


def limited_sync_exchange(
    timeouts: Timeouts, time_left: float | None
) -> contextlib.AbstractContextManager[dict[str, float | None]]:
    """`limited_exchange` on the blocking driver's clock."""
    return limited_exchange(timeouts, time_left, time.monotonic)


class LimitedStream(httpcore.NetworkStream):
    """A blocking stream whose reads and writes stop when the exchange's time is up."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout, reading=True))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        raw = self._stream.get_extra_info("socket")
        if isinstance(raw, socket.socket):
            with contextlib.suppress(OSError):  # already shut down, or never connected
                raw.shutdown(socket.SHUT_RDWR)
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return LimitedStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class Closable:
    """A backend's closed state: once closed, it opens no connection."""

    closed = False

    def close(self) -> None:
        """Refuse every connection from now on."""
        self.closed = True

    def refuse_if_closed(self) -> None:
        """Raise `httpcore.ConnectError` once closed."""
        if self.closed:
            raise httpcore.ConnectError("the client is closed")


class LimitedBackend(Closable, httpcore.NetworkBackend):
    """httpcore's blocking backend, with connects, reads and writes clamped to the exchange."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        self.refuse_if_closed()
        left = _left(timeout, httpcore.ConnectTimeout)
        stream = LimitedStream(
            self._backend.connect_tcp(host, port, left, local_address, socket_options)
        )
        if self.closed:  # closed while connecting: the pool's close did not see this one
            stream.close()
            self.refuse_if_closed()
        return stream

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
