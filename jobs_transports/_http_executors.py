"""HTTP effects: httpcore's blocking pool for the sync driver, the h11 pool for asyncio and trio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpcore

from jobs_core import HttpRequest, HttpResponse, TransportError

from ._http_errors import transport_errors
from ._http_target import HttpTarget
from ._network import LimitedBackend, limited_sync_exchange

if TYPE_CHECKING:
    from ._h11_pool import H11Pool, Response


def _response(raw: httpcore.Response | Response) -> HttpResponse:
    headers = tuple([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers])
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


class AsyncHttp:
    """Sends `HttpRequest`s on an `H11Pool`, under asyncio or trio (see `_h11_pool` for why)."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        from ._h11_pool import H11Pool  # here: the sync driver has no use for it

        self.target = target
        self._pool = H11Pool(max_connections=max_connections)
        # Built once: the same for every request (`limit` is added per request when it varies).
        self._extensions: dict[str, Any] = {"timeout": target.timeouts.as_extension()}
        if target.timeouts.total is not None:
            self._extensions["limit"] = target.timeouts.total

    @property
    def pool(self) -> H11Pool:
        """The connection pool (tests look at its connections and requests in flight)."""
        return self._pool

    async def send(self, request: HttpRequest, time_left: float | None = None) -> HttpResponse:
        """Return the server's response, whatever its status, within `time_left` seconds (and
        `Timeouts.total`): the whole exchange, from the wait for a connection to the response's
        last byte.

        Raises:
            TransportError: no response was received (``timeout=True``: not in time).
        """
        extensions = self._extensions
        if time_left is not None:
            if time_left <= 0:
                raise TransportError(
                    "the call's deadline passed before the request was sent",
                    request_sent=False,
                    timeout=True,
                )
            total = self.target.timeouts.total
            extensions = {
                **extensions,
                "limit": time_left if total is None else min(time_left, total),
            }
        with transport_errors():
            raw = await self._pool.request(
                request.method,
                self.target.url(request),
                headers=self.target.headers_for(request),
                content=request.body or None,
                extensions=extensions,
            )
        return _response(raw)

    async def aclose(self) -> None:
        """Close every connection, failing the requests in flight, and open no more."""
        await self._pool.aclose()
