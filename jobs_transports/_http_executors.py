"""HTTP effects performed with httpcore: a blocking pool and an async one (asyncio or trio)."""

from __future__ import annotations

import httpcore

from jobs_core import HttpRequest, HttpResponse

from ._http_errors import transport_errors
from ._http_target import HttpTarget
from ._network import (
    AsyncLimitedBackend,
    LimitedBackend,
    limited_async_exchange,
    limited_sync_exchange,
)


def _response(raw: httpcore.Response) -> HttpResponse:
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers)
    return HttpResponse(status=raw.status, headers=headers, body=raw.content)


class SyncHttp:
    """Sends `HttpRequest`s on an `httpcore.ConnectionPool`."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        self.target = target
        self._backend = LimitedBackend()
        self._pool = httpcore.ConnectionPool(
            max_connections=max_connections, network_backend=self._backend
        )

    @property
    def pool(self) -> httpcore.ConnectionPool:
        """The connection pool (tests look at its connections and queued requests)."""
        return self._pool

    def send(self, request: HttpRequest, time_left: float | None = None) -> HttpResponse:
        """Return the server's response, whatever its status, within `time_left` seconds.

        Raises:
            TransportError: no response was received (``timeout=True``: in time).
        """
        with (
            transport_errors(),
            limited_sync_exchange(self.target.timeouts, time_left) as timeouts,
        ):
            raw = self._pool.request(
                request.method,
                self.target.url(request),
                headers=self.target.headers_for(request),
                content=request.body or None,
                extensions={"timeout": timeouts},
            )
        return _response(raw)

    def close(self) -> None:
        """Close every connection, those in use by other threads too, and open no more."""
        self._backend.close()
        self._pool.close()


class _Body:
    """A request body sent as one chunk, iterated without an async generator.

    httpcore sends `bytes` through an async generator that it leaves suspended when the send is
    cancelled; trio warns (`ResourceWarning`) when such a generator is collected.
    """

    def __init__(self, body: bytes) -> None:
        self._chunks = [body]

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        if not self._chunks:
            raise StopAsyncIteration
        return self._chunks.pop()


class _ReclaimingPool(httpcore.AsyncConnectionPool):
    """An `AsyncConnectionPool` that takes back the connections cancelled requests left behind.

    httpcore 1.0.9 loses a slot for good when a request is cancelled after the pool handed it a
    connection but before that connection marked itself busy: a new connection assigned to a
    queued request (encode/httpcore#1093), or one whose TCP connect finished just before its
    HTTP/1.1 state lock (taken outside its cleanup block). No request owns such a connection and
    it is neither idle nor closed, so the pool never reuses, expires or closes it; with
    `max_connections` of them every later request ends in `PoolTimeout`.
    """

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        owned = [request.connection for request in self._requests]
        orphans = [
            connection
            for connection in self._connections
            if not any(connection is owner for owner in owned)
            and not connection.is_idle()
            and not connection.is_closed()
        ]
        for connection in orphans:
            self._connections.remove(connection)
        # The pool closes what this returns: an orphan that did connect loses its socket too.
        return orphans + super()._assign_requests_to_connections()


class AsyncHttp:
    """Sends `HttpRequest`s on an `httpcore.AsyncConnectionPool`, under asyncio or trio."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        self.target = target
        self._backend = AsyncLimitedBackend()
        self._pool: httpcore.AsyncConnectionPool = _ReclaimingPool(
            max_connections=max_connections, network_backend=self._backend
        )

    @property
    def pool(self) -> httpcore.AsyncConnectionPool:
        """The connection pool (tests look at its connections and queued requests)."""
        return self._pool

    async def send(self, request: HttpRequest, time_left: float | None = None) -> HttpResponse:
        """Return the server's response, whatever its status, within `time_left` seconds.

        Raises:
            TransportError: no response was received (``timeout=True``: in time).
        """
        headers = self.target.headers_for(request)
        body = None
        if request.body:
            # httpcore only works the length out for `bytes`; without it the body goes chunked.
            headers.append(("Content-Length", str(len(request.body))))
            body = _Body(request.body)
        with (
            transport_errors(),
            limited_async_exchange(self.target.timeouts, time_left) as timeouts,
        ):
            raw = await self._pool.request(
                request.method,
                self.target.url(request),
                headers=headers,
                content=body,
                extensions={"timeout": timeouts},
            )
        return _response(raw)

    async def aclose(self) -> None:
        """Close every pooled connection and open no more."""
        self._backend.close()
        await self._pool.aclose()
