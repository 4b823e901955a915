"""Where HTTP effects go: base URL, credentials and timeouts, the parts the core leaves out."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import attrs

from jobs_core import HttpRequest, JobConfigurationError

from ._time_left import LONGEST_WAIT

EndpointProvider = Callable[[], str]
"""Returns the current Direct Access base URL; called again when the core sees it is stale."""
Headers = tuple[tuple[str, str], ...]


@attrs.frozen
class Timeouts:
    """Seconds allowed for an HTTP exchange or a SQL statement (None: no limit).

    `connect`, `write` and `pool` (waiting for a free connection) bound their phase; `read`
    bounds receiving the whole response, however slowly the server sends it; `total` bounds the
    whole exchange. They bound a SQL statement the same way: `pool` its wait for a busy
    connection, `read` the statement from when it is sent to its last row (the connector is told
    it too where it takes a limit), `total` the whole. A call with a deadline (`wait`,
    `create_ready`) caps each exchange further at the time it has left.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    write: float | None = 60.0
    pool: float | None = 30.0
    total: float | None = 120.0

    def __attrs_post_init__(self) -> None:
        """Check each limit: a number of seconds > 0 that a socket's timeout can hold, or None.

        Raises:
            JobConfigurationError: a limit is of another type, NaN, <= 0 or past `LONGEST_WAIT`
                (a zero or negative one failed every request after its retries, as a timeout).
        """
        for phase, seconds in attrs.asdict(self).items():
            if seconds is None:
                continue
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not 0 < seconds <= LONGEST_WAIT
            ):
                plain = type(seconds) is float or (
                    type(seconds) is int and seconds.bit_length() < 64
                )
                shown = repr(seconds) if plain else f"a value of type {type(seconds).__name__}"
                raise JobConfigurationError(
                    f"Timeouts.{phase} must be seconds > 0 (at most {LONGEST_WAIT:g}) or None"
                    f" for no limit, not {shown}"
                )

    def as_extension(self) -> dict[str, float | None]:
        """Return the pools' ``timeout`` request extension (one limit per phase)."""
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}


@attrs.define
class HttpTarget:
    """The base URL (refreshable), the headers added to every request, and the timeouts.

    `credentials` gives headers that change over the client's life (a renewed token).
    """

    endpoint: EndpointProvider
    # Never in the repr: the headers carry the credentials, a URL may carry user info.
    headers: Headers = attrs.field(default=(), repr=False)
    timeouts: Timeouts = Timeouts()
    _base_url: str | None = attrs.field(default=None, repr=False)
    credentials: Callable[[], Headers] | None = None

    @classmethod
    def of(
        cls,
        base_url: str | EndpointProvider,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts,
        *,
        token: str | None = None,
    ) -> HttpTarget:
        """Return the target for a fixed base URL or an endpoint provider.

        `token` becomes ``Authorization: Snowflake Token="..."``, added to `headers`.

        Raises:
            JobConfigurationError: a fixed `base_url` that is not a usable http(s) URL, or a
                header or token that cannot go on the wire (the message never shows the value).
        """
        endpoint = base_url if callable(base_url) else (lambda: base_url)
        all_headers = checked_headers(headers, token)
        target = cls(endpoint=endpoint, headers=all_headers, timeouts=timeouts)
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
            self._base_url = checked_base_url(url)
        return self._base_url

    def describe(self) -> str:
        """Return where requests go, for a `repr`: the base URL's scheme, host, port and path
        (never its user info), or that the endpoint provider has not been asked yet."""
        if self._base_url is None:
            return "endpoint provider (not asked yet)"
        parts = urlsplit(self._base_url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = "" if parts.port is None else f":{parts.port}"
        return f"{parts.scheme}://{host}{port}{parts.path}"

    def refresh(self) -> None:
        """Forget the cached base URL, so the next request asks the provider again."""
        self._base_url = None

    def url(self, request: HttpRequest) -> str:
        """Return the absolute URL of `request`: at its `origin`, else at the base URL."""
        return (request.origin or self.base_url) + request.target

    def headers_for(self, request: HttpRequest) -> list[tuple[str, str]]:
        """Return the request's headers plus the configured ones (credentials).

        A request to another `origin` (the account's host) gets no Direct Access credentials.
        """
        if request.origin is not None:
            return list(request.headers)
        credentials = self.credentials() if self.credentials is not None else ()
        return [*request.headers, *self.headers, *credentials]


def checked_base_url(url: object) -> str:
    """Return `url` without a trailing slash, once it is known to be a usable base URL.

    Raises:
        JobConfigurationError: `url` is not a string, or not an absolute http(s) URL with an
            ASCII host, a valid port, no user information and no query or fragment (the URL
            itself is not shown: it may carry credentials).
    """
    if not isinstance(url, str):
        raise JobConfigurationError(f"base_url must be a string, not {type(url).__name__}")
    if not url.isascii() or not url.isprintable() or " " in url:
        # urlsplit would silently drop CR/LF/tab; httpcore would fail on the rest later.
        raise JobConfigurationError(
            "base_url must be printable ASCII without spaces (internationalised hosts in"
            " their xn-- form)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise JobConfigurationError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JobConfigurationError("base_url must be an http:// or https:// URL with a host")
    if "@" in parts.netloc:
        # It would be sent as part of the host name, and fail only after every retry.
        raise JobConfigurationError(
            "base_url must not hold a user name or password (user:password@host): Direct Access"
            " takes a token (token=...)"
        )
    if port == 0:
        raise JobConfigurationError("base_url has port 0")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise JobConfigurationError("base_url must have no query or fragment")
    return url.rstrip("/")


# RFC 9110 field names are tokens; values are visible ASCII with inner spaces and tabs.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE_CHARACTERS = frozenset(string.printable) - frozenset("\r\n\x0b\x0c")


def checked_headers(
    headers: Mapping[str, str] | None, token: str | None
) -> tuple[tuple[str, str], ...]:
    """Return `headers` plus the `token`'s Authorization header, surrounding whitespace removed.

    Raises:
        JobConfigurationError: a name or value that is not a string, a name that is not an
            HTTP token, or a value with a line break, NUL, another control character or
            non-ASCII text (never shown: it may be a secret).
    """
    if headers is not None and not isinstance(headers, Mapping):
        raise JobConfigurationError(f"headers must be a mapping, not {type(headers).__name__}")
    checked = [
        (_header_name(name), _header_value(f"header {name!r}", value))
        for name, value in (headers or {}).items()
    ]
    if token is not None:
        token = _header_value("token", token, quoted=True)
        checked.append(("Authorization", f'Snowflake Token="{token}"'))
    return tuple(checked)


def _header_name(name: object) -> str:
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise JobConfigurationError(
            "a header name must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)"
        )
    return name


def _header_value(what: str, value: object, *, quoted: bool = False) -> str:
    if not isinstance(value, str):
        raise JobConfigurationError(f"the {what} must be a string, not {type(value).__name__}")
    value = value.strip()
    if not set(value) <= _VALUE_CHARACTERS or (quoted and ('"' in value or not value)):
        raise JobConfigurationError(
            f"the {what} is empty or contains a line break, NUL, control character, quote or"
            " non-ASCII text (the value is not shown)"
            if quoted
            else f"the {what} contains a line break, NUL, control character or non-ASCII text"
            " (the value is not shown)"
        )
    return value
