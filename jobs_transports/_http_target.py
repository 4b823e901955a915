"""Where HTTP effects go: base URL, credentials and timeouts, the parts the core leaves out."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from jobs_core import HttpRequest, JobConfigurationError

EndpointProvider = Callable[[], str]
"""Returns the current Direct Access base URL; called again when the core sees it is stale."""


@attrs.frozen
class Timeouts:
    """Seconds allowed for an HTTP exchange (None: no limit).

    `connect`, `write` and `pool` (waiting for a free connection) bound their phase; `read`
    bounds receiving the whole response, however slowly the server sends it; `total` bounds the
    whole exchange. A call with a deadline (`wait`, `create_ready`) caps each exchange further
    at the time it has left.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    write: float | None = 60.0
    pool: float | None = 30.0
    total: float | None = 120.0

    def as_extension(self) -> dict[str, float | None]:
        """Return httpcore's ``timeout`` request extension (the phases httpcore knows)."""
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}


@attrs.define
class HttpTarget:
    """The base URL (refreshable), the headers added to every request, and the timeouts."""

    endpoint: EndpointProvider
    headers: tuple[tuple[str, str], ...] = ()
    timeouts: Timeouts = Timeouts()
    _base_url: str | None = None

    @classmethod
    def of(
        cls,
        base_url: str | EndpointProvider,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts,
    ) -> HttpTarget:
        """Return the target for a fixed base URL or an endpoint provider.

        Raises:
            JobConfigurationError: a fixed `base_url` that is not an http(s) URL.
        """
        endpoint = base_url if callable(base_url) else (lambda: base_url)
        target = cls(endpoint=endpoint, headers=tuple((headers or {}).items()), timeouts=timeouts)
        if not callable(base_url):
            _ = target.base_url  # checked now rather than on the first request
        return target

    @property
    def base_url(self) -> str:
        """The current base URL, without a trailing slash.

        Raises:
            JobConfigurationError: the endpoint is not an http(s) URL, or the provider failed.
        """
        if self._base_url is None:
            try:
                url = self.endpoint()
            except Exception as exc:
                raise JobConfigurationError(f"the endpoint provider failed: {exc!r}") from exc
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise JobConfigurationError(f"base_url must be an http(s) URL, not {url!r}")
            self._base_url = url.rstrip("/")
        return self._base_url

    def refresh(self) -> None:
        """Forget the cached base URL, so the next request asks the provider again."""
        self._base_url = None

    def url(self, request: HttpRequest) -> str:
        """Return the absolute URL of `request`."""
        return self.base_url + request.target

    def headers_for(self, request: HttpRequest) -> list[tuple[str, str]]:
        """Return the request's headers plus the configured ones (credentials)."""
        return [*request.headers, *self.headers]
