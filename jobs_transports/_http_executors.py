"""HTTP effects performed with httpcore: a blocking pool and an async one (asyncio or trio)."""

from __future__ import annotations

import httpcore

from jobs_core import HttpRequest, HttpResponse

from ._http_errors import transport_errors
from ._http_target import HttpTarget


def _response(raw: httpcore.Response) -> HttpResponse:
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers)
    return HttpResponse(status=raw.status, headers=headers, body=raw.content)


class SyncHttp:
    """Sends `HttpRequest`s on an `httpcore.ConnectionPool`."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        self.target = target
        self._pool = httpcore.ConnectionPool(max_connections=max_connections)

    def send(self, request: HttpRequest) -> HttpResponse:
        """Return the server's response, whatever its status.

        Raises:
            TransportError: no response was received.
        """
        with transport_errors():
            raw = self._pool.request(
                request.method,
                self.target.url(request),
                headers=self.target.headers_for(request),
                content=request.body or None,
                extensions={"timeout": self.target.timeouts.as_extension()},
            )
        return _response(raw)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


class AsyncHttp:
    """Sends `HttpRequest`s on an `httpcore.AsyncConnectionPool`, under asyncio or trio."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        self.target = target
        self._pool = httpcore.AsyncConnectionPool(max_connections=max_connections)

    @property
    def pool(self) -> httpcore.AsyncConnectionPool:
        """The connection pool (tests look at its connections and queued requests)."""
        return self._pool

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Return the server's response, whatever its status.

        Raises:
            TransportError: no response was received.
        """
        with transport_errors():
            raw = await self._pool.request(
                request.method,
                self.target.url(request),
                headers=self.target.headers_for(request),
                content=request.body or None,
                extensions={"timeout": self.target.timeouts.as_extension()},
            )
        return _response(raw)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()
