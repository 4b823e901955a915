"""HTTP effects: a blocking h11 pool for the sync driver, an async one for asyncio and trio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobs_core import HttpRequest, HttpResponse, TransportError

from ._h11_blocking import BlockingPool
from ._h11_exchange import EXCHANGE_ERRORS
from ._http_errors import as_transport_error
from ._http_target import HttpTarget

if TYPE_CHECKING:
    from ._h11_exchange import Response
    from ._h11_pool import H11Pool


def _response(raw: Response) -> HttpResponse:
    headers = tuple([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers])
    return HttpResponse(status=raw.status, headers=headers, body=raw.content)


def _base_extensions(target: HttpTarget) -> dict[str, Any]:
    """Return the pools' request extensions for `target`'s timeouts (built once per client)."""
    extensions: dict[str, Any] = {"timeout": target.timeouts.as_extension()}
    if target.timeouts.total is not None:
        extensions["limit"] = target.timeouts.total
    return extensions


def _extensions(
    base: dict[str, Any], target: HttpTarget, time_left: float | None
) -> dict[str, Any]:
    """Return `base`, its whole-exchange ``limit`` capped at the `time_left` a deadline gives.

    Raises:
        TransportError: the time was up before the request was sent (``request_sent=False``).
    """
    if time_left is None:
        return base
    if time_left <= 0:
        raise TransportError(
            "the call's deadline passed before the request was sent",
            request_sent=False,
            timeout=True,
        )
    total = target.timeouts.total
    return {**base, "limit": time_left if total is None else min(time_left, total)}


class SyncHttp:
    """Sends `HttpRequest`s on a `BlockingPool` (see `_h11_blocking` for why)."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        self.target = target
        self._pool = BlockingPool(max_connections=max_connections)
        self._extensions = _base_extensions(target)

    @property
    def pool(self) -> BlockingPool:
        """The connection pool (tests look at its connections and requests in flight)."""
        return self._pool

    def send(self, request: HttpRequest, time_left: float | None = None) -> HttpResponse:
        """Return the server's response, whatever its status, within `time_left` seconds (and
        `Timeouts.total`): the whole exchange, from the wait for a connection to the response's
        last byte.

        Raises:
            TransportError: no response was received (``timeout=True``: not in time).
        """
        extensions = _extensions(self._extensions, self.target, time_left)
        try:
            raw = self._pool.request(
                request.method,
                self.target.url(request),
                headers=self.target.headers_for(request),
                content=request.body or None,
                extensions=extensions,
            )
        except EXCHANGE_ERRORS as exc:
            raise as_transport_error(exc) from exc
        return _response(raw)

    def close(self) -> None:
        """Close every connection, those in use by other threads too, and open no more."""
        self._pool.close()


class AsyncHttp:
    """Sends `HttpRequest`s on an `H11Pool`, under asyncio or trio (see `_h11_pool` for why)."""

    def __init__(self, target: HttpTarget, *, max_connections: int = 10) -> None:
        from ._h11_pool import H11Pool  # here: the sync driver has no use for it

        self.target = target
        self._pool = H11Pool(max_connections=max_connections)
        self._extensions = _base_extensions(target)

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
        extensions = _extensions(self._extensions, self.target, time_left)
        try:
            raw = await self._pool.request(
                request.method,
                self.target.url(request),
                headers=self.target.headers_for(request),
                content=request.body or None,
                extensions=extensions,
            )
        except EXCHANGE_ERRORS as exc:
            raise as_transport_error(exc) from exc
        return _response(raw)

    async def aclose(self) -> None:
        """Close every connection, failing the requests in flight, and open no more."""
        await self._pool.aclose()
