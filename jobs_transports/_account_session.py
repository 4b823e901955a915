"""The endpoint and token of one client's Direct Access requests: found, cached, renewed.

An `AccountSession` holds the state (the endpoint, a token per endpoint) and hands drivers
protocols that bring it up to date: they discover the endpoint with `jobs_core.discover_endpoint`
and exchange key-pair tokens with `jobs_core.exchange_token`, so their SQL and HTTP go through
the driver like any other effect. A driver runs them under the session's lock, which is how
concurrent calls share one discovery or one exchange: the first runs it, the others wait for the
lock and find the state fresh.

The token of a request is tracked per task (a context variable), so a 401 renews the token only
if no other call has renewed it since that request was sent.

An endpoint taken from the on-disk cache is only a guess: when it cannot be reached (see
`distrusts`), the driver has it discovered again, once, before the request is retried.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

import anyio
import attrs

from jobs_core import (
    AccessToken,
    ClientConfig,
    HttpRequest,
    JobConfigurationError,
    JobServerError,
    JobTimeoutError,
    Now,
    Protocol,
    RefreshEndpoint,
    RenewToken,
    TransportError,
    discover_endpoint,
    exchange_token,
)

from ._account_config import TokenProvider
from ._endpoint_cache import EndpointCache
from ._fork_safety import start_afresh_after_fork
from ._http_target import EndpointProvider, Headers, checked_base_url

log = logging.getLogger("jobs_transports.accounts")

NeedsAccount: TypeAlias = HttpRequest | RefreshEndpoint | RenewToken
"""The effects that may need the endpoint or token brought up to date, with the `deadline` and
`persist` the update takes from them."""
AccountUpdate: TypeAlias = Callable[[float | None, bool], Protocol[None]]
"""`AccountSession.prepare`, `renew` or `rediscover`: given a deadline and whether it persists."""


def checked_token(value: object, source: str) -> str:
    """Return `value` stripped, once it is sure to fit in an HTTP header.

    Raises:
        JobConfigurationError: not text, empty, or with characters a header cannot carry (the
            message says which kind, never the token).
    """
    if not isinstance(value, str):
        raise JobConfigurationError(f"the token from {source} is not text")
    token = value.strip()
    if not token:
        raise JobConfigurationError(f"the token from {source} is empty")
    if not all(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in token):
        raise JobConfigurationError(
            f"the token from {source} cannot go in an HTTP header: it holds spaces, quotes, "
            f"control or non-ASCII characters"
        )
    return token


def waited_past_deadline() -> JobTimeoutError:
    """Return the error of a call whose deadline passed while another call of the same client
    was finding the endpoint or renewing the token it needs."""
    return JobTimeoutError(
        "the deadline passed while another call was finding the Direct Access endpoint or"
        " renewing its token"
    )


@attrs.frozen
class KeyPairExchange:
    """Where and as whom key-pair tokens are exchanged (the signer is the driver's)."""

    origin: str
    role: str | None


@attrs.frozen
class TokenSource:
    """Where tokens come from: a fixed value, a file, a callable, or a key-pair exchange."""

    fixed: str | None = attrs.field(default=None, repr=False)
    file: Path | None = None
    provider: TokenProvider | None = None
    exchange: KeyPairExchange | None = None
    where: str = ""
    """The configuration file, profile and connection that name `file`, for messages."""

    def read(self) -> str:
        """Return the current token of a fixed value, file or callable.

        Raises:
            JobConfigurationError: it cannot be read or cannot go in a header (naming `where`).
        """
        if self.file is not None:
            source = f"token_file_path {self.file}" + (f" ({self.where})" if self.where else "")
            try:
                text = self.file.expanduser().read_text(encoding="utf-8-sig")  # skips a BOM
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise JobConfigurationError(f"{source}: cannot read it: {reason}") from exc
            except UnicodeDecodeError as exc:
                raise JobConfigurationError(f"{source}: not UTF-8 text") from exc
            return checked_token(text, source)
        if self.provider is not None:
            try:
                value = self.provider()
            except Exception as exc:
                raise JobConfigurationError(
                    f"the token= callable failed: {type(exc).__name__}"
                ) from exc
            return checked_token(value, "the token= callable")
        return checked_token(self.fixed, "the token setting")


@attrs.frozen
class _Used:
    endpoint: str | None
    generation: int


_USED: contextvars.ContextVar[_Used] = contextvars.ContextVar("jobs_account_used")


class AccountSession:
    """Endpoint and token state of one client, and the protocols that refresh it."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenSource,
        *,
        account: str | None = None,
        app: str | None = None,
        endpoint: EndpointProvider | None = None,
        cache: EndpointCache | None = None,
    ) -> None:
        """`endpoint` gives the base URL; without it, it is discovered from `app` of `account`."""
        self._config = config
        self._tokens = tokens
        self._account = account or ""
        self._app = app or ""
        self._cache = cache
        self._provider = endpoint
        self.endpoint: str | None = None
        self._cached = False  # `endpoint` is the cache's, not yet confirmed by a discovery
        self._token: AccessToken | None = None
        self._generation = 0
        self.lock = threading.Lock()
        self.async_lock = anyio.Lock()
        start_afresh_after_fork(self)

    def start_afresh(self) -> None:
        """In the child of a fork: a new lock (a thread of the parent, renewing the token at the
        fork, held the old one and does not exist here). The endpoint and token stay valid."""
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AccountSession(endpoint={self.endpoint!r}, renewals={self._generation})"

    def base_url(self) -> str:
        """The current endpoint (an `EndpointProvider` for the HTTP target)."""
        if self.endpoint is None:
            raise JobConfigurationError("the Direct Access endpoint is not known yet")
        return self.endpoint

    def credentials(self) -> Headers:
        """The ``Authorization`` header of the current token (none before the first)."""
        if self._token is None:
            return ()
        return (("Authorization", f'Snowflake Token="{self._token.value}"'),)

    def is_ready(self, now: float) -> bool:
        """Whether a request can go now without a discovery or a renewal first."""
        return self.endpoint is not None and self._token is not None and self._token.usable_at(now)

    def mark_used(self) -> None:
        """Note, for this task, which endpoint and token its next request goes with."""
        _USED.set(_Used(self.endpoint, self._generation))

    def prepare(self, deadline: float | None = None, persist: bool = False) -> Protocol[None]:
        """Return the protocol that makes sure there is an endpoint and a usable token.

        `deadline` is that of the request that needs them (on the driver's clock): the discovery
        and exchange end by then, with `JobTimeoutError`; without one, each of their requests is
        bounded by the driver's own timeouts. `persist` is the request's too: a poll's discovery
        and exchange ride out transient failures until the deadline.
        """
        if self.endpoint is None and self._provider is not None:
            try:
                self.endpoint = self._provider()
            except Exception as exc:
                raise JobConfigurationError(f"the endpoint provider failed: {exc!r}") from exc
        if self.endpoint is None:
            cached = self._cache.get(self._account, self._app) if self._cache else None
            if cached is not None:
                log.debug("endpoint of %s/%s from %s", self._account, self._app, self._cache)
                self.endpoint = cached.endpoint
                self._cached = True
            else:
                yield from self._discover(deadline, persist)
        now: float = yield Now()
        if self._token is None or not self._token.usable_at(now):
            yield from self._renew_or_keep(deadline, persist)

    def renew(self, deadline: float | None = None, persist: bool = False) -> Protocol[None]:
        """Return the protocol that replaces a refused token, unless another call already did
        (`deadline` and `persist` as for `prepare`)."""
        used = _USED.get(None)
        if used is None or used.generation == self._generation:
            self._token = None
        yield from self.prepare(deadline, persist)

    def distrusts(self, failure: TransportError) -> bool:
        """Return whether `failure`, of a request to the current endpoint, calls for discovering
        it again: the endpoint came from the cache and could not be reached (the request was
        never sent: refused connection, unknown host). A discovered endpoint is never doubted:
        the service says when it is stale."""
        return self._cached and not failure.request_sent

    def rediscover(self, deadline: float | None = None, persist: bool = False) -> Protocol[None]:
        """Return the protocol that replaces a stale endpoint, unless another call already did
        (`deadline` and `persist` as for `prepare`)."""
        used = _USED.get(None)
        if used is None or used.endpoint == self.endpoint:
            if self._provider is not None:
                self.endpoint = None  # asked of the provider again
                self._token = None
            else:
                yield from self._discover(deadline, persist)
        yield from self.prepare(deadline, persist)

    def _discover(self, deadline: float | None, persist: bool) -> Protocol[None]:
        endpoint = yield from discover_endpoint(
            self._config, self._app, deadline=deadline, persist=persist
        )
        self._replace_endpoint(endpoint)

    def _replace_endpoint(self, endpoint: str) -> None:
        """Make the discovered `endpoint` the current one, and cache it.

        Raises:
            JobServerError: `endpoint` is not a usable base URL (the application's answer, not
                the user's configuration); the state and the cache are left as they were.
        """
        try:
            endpoint = checked_base_url(endpoint)
        except JobConfigurationError as exc:
            raise JobServerError(
                f"the application {self._app} answered a Direct Access endpoint that is not a "
                f"usable base URL: {exc}"
            ) from exc
        log.debug("discovered the endpoint of %s/%s: %s", self._account, self._app, endpoint)
        if endpoint != self.endpoint:
            self._token = None  # a token is valid for one endpoint
        self.endpoint = endpoint
        self._cached = False
        if self._cache is not None:
            self._cache.put(self._account, self._app, endpoint)

    def _renew_or_keep(self, deadline: float | None, persist: bool) -> Protocol[None]:
        """Renew the token; when that fails on the account's side while the token held is only
        due for renewal, not yet expired (nor refused, nor for another endpoint), keep it: it
        was renewed ahead of time so that a failure there is not the call's."""
        held = self._token
        try:
            yield from self._renew(deadline, persist)
        except JobServerError as exc:
            if held is None or self._token is not held or held.expired_at((yield Now())):
                raise
            log.warning(
                "renewing the Direct Access token failed; the current token is used until it "
                "expires: %s",
                exc,
            )

    def _renew(self, deadline: float | None, persist: bool) -> Protocol[None]:
        assert self.endpoint is not None
        exchange = self._tokens.exchange
        if exchange is None:
            token = AccessToken(self._tokens.read())
        else:
            token = yield from exchange_token(
                self._config,
                exchange.origin,
                self.endpoint,
                exchange.role,
                app=self._app,
                deadline=deadline,
                persist=persist,
            )
            try:
                checked_token(token.value, f"the token exchange at {exchange.origin}")
            except JobConfigurationError as exc:
                raise JobServerError(str(exc)) from exc  # the account's answer, not the config
            if token.endpoint is not None and token.endpoint != self.endpoint:
                self._replace_endpoint(token.endpoint)  # the exchange found it stale
            log.debug("exchanged a token for %s, valid %ss", self.endpoint, token.lifetime_s)
        # Masked from now on, before any request carries it: a server may quote it back.
        self._config.secrets.add(token.value)
        self._token = token
        self._generation += 1
