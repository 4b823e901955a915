"""What a client is configured with: its backends and its retry and polling policies."""

from __future__ import annotations

import enum
import functools
import math
import random
import re

import attrs

from ._errors import JobCapabilityError, JobConfigurationError, excerpt
from ._models import ReasonerType
from ._secrets import Secrets
from ._version import __version__

USER_AGENT = f"jobs-client/{__version__}"

# An SQL identifier: plain, or double-quoted with "" for a quote; an application name may be
# qualified (db.app). The statements paste it in, so nothing else may pass.
_IDENTIFIER = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"\x00-\x1f]|"")+")'
_APP_NAME = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*")
_SCHEMA_NAME = re.compile(_IDENTIFIER)


class Backend(enum.Enum):
    """Which front door of the service a request goes through."""

    HTTP = "http"
    SQL = "sql"


@attrs.frozen
class RetryPolicy:
    """Retries of transient failures: 429, 5xx, transport errors, lost SQL connections.

    Retry n (n >= 1) waits ``min(initial_backoff_s * multiplier**(n-1), max_backoff_s)``,
    scaled by a random factor in ``[1 - jitter, 1 + jitter]`` (drawn from a generator seeded by
    the client's seed, the call's number and the request, see `ClientConfig.call`), unless the
    server sent `Retry-After`, which is honoured up to `max_retry_after_s`.
    """

    max_attempts: int = 5
    """Total attempts, the first included; 1 disables retries."""
    initial_backoff_s: float = 0.1
    multiplier: float = 2.0
    max_backoff_s: float = 5.0
    jitter: float = 0.2
    max_retry_after_s: float = 60.0

    def __attrs_post_init__(self) -> None:
        _check_number("RetryPolicy.max_attempts", self.max_attempts, at_least=1, whole=True)
        _check_number("RetryPolicy.initial_backoff_s", self.initial_backoff_s, at_least=0)
        _check_number("RetryPolicy.multiplier", self.multiplier, at_least=1)
        _check_number("RetryPolicy.max_backoff_s", self.max_backoff_s, at_least=0)
        _check_number("RetryPolicy.jitter", self.jitter, at_least=0, at_most=1)
        _check_number("RetryPolicy.max_retry_after_s", self.max_retry_after_s, at_least=0)

    def backoff(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Return the seconds to wait before retry number `retry` (1 for the first retry)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        base = min(self.initial_backoff_s * self.multiplier ** (retry - 1), self.max_backoff_s)
        return base * rng.uniform(1 - self.jitter, 1 + self.jitter)


@attrs.frozen
class PollPolicy:
    """How `wait` spaces its polls: cheap on long jobs, prompt on short ones. Following an event
    stream spaces its reads of a quiet stream, and of the job's record, the same way.

    The first interval is `wait`'s `poll_interval_s`. Each next one is `fraction` of the time
    waited so far, or the previous interval times `factor`, whichever is longer, capped at
    `max_interval_s`; it never shrinks. A job that ends after D seconds of waiting is therefore
    seen less than ``fraction * D`` late (at most `max_interval_s`), with a number of polls that
    grows with the logarithm of D instead of with D: by default a 1-hour job takes about 100
    polls where polling every 0.5 s takes 7,201. ``fraction=0`` with ``factor=1`` polls at a
    fixed interval.
    """

    factor: float = 1.0
    max_interval_s: float = 45.0
    fraction: float = 0.2

    def __attrs_post_init__(self) -> None:
        _check_number("PollPolicy.factor", self.factor, at_least=1)
        _check_number(
            "PollPolicy.max_interval_s", self.max_interval_s, at_least=0, above=True, cap=True
        )
        _check_number("PollPolicy.fraction", self.fraction, at_least=0, at_most=1)

    def next_interval(self, interval: float, waited: float) -> float:
        """Return the interval after `interval`, once `waited` seconds have passed in the wait."""
        grown = max(interval * self.factor, waited * self.fraction)
        return max(interval, min(grown, self.max_interval_s))


def _check_number(
    name: str,
    value: object,
    *,
    at_least: float,
    at_most: float = math.inf,
    above: bool = False,
    whole: bool = False,
    cap: bool = False,
) -> None:
    """Check that `value` is a finite number from `at_least` (excluded when `above`) to `at_most`,
    and an int when `whole` (a bool is neither); a `cap` may also be infinite (no cap).

    Raises:
        JobConfigurationError: it is not.
    """
    if (cap and value == math.inf) or _in_range(value, at_least, at_most, above=above, whole=whole):
        return
    wanted = "an int" if whole else "a number (infinite: no cap)" if cap else "a finite number"
    bound = f"> {at_least:g}" if above else f">= {at_least:g}"
    if at_most != math.inf:
        bound += f" and <= {at_most:g}"
    raise JobConfigurationError(f"{name} must be {wanted} {bound}, not {excerpt(value)}")


def _in_range(value: object, at_least: float, at_most: float, *, above: bool, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return (value > at_least if above else value >= at_least) and value <= at_most


_TYPED_FIELDS = (("logic_over_http", bool), ("retry", RetryPolicy), ("polling", PollPolicy))


def _is_name(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _secrets(value: object) -> Secrets:
    if isinstance(value, Secrets):
        return value
    if not isinstance(value, tuple) or not all(isinstance(secret, str) for secret in value):
        raise JobConfigurationError("secrets must be a tuple of strings or a Secrets")
    return Secrets(value)


# Without slots: `for_call` copies the instance's `__dict__` (one C call) for every call a
# client makes, where `attrs.evolve` would run `__init__` and its checks again, five times the cost.
@attrs.frozen(slots=False)
class ClientConfig:
    """Everything a protocol needs to know about the client that runs it.

    `http` and `sql` say which backends are configured (both: hybrid routing). `app` and `schema`
    name the SQL API's objects. `logic_over_http` says whether the Direct Access transactions
    endpoints are available (the hybrid rule sends Logic through SQL when they are not).
    """

    http: bool = False
    sql: bool = False
    app: str | None = None
    schema: str = "api"
    logic_over_http: bool = True
    retry: RetryPolicy = RetryPolicy()
    polling: PollPolicy = PollPolicy()
    seed: int = 0
    """Seeds the jitter of retries, so a run is reproducible."""
    call: int = 0
    """Which of the client's calls this configuration runs (see `for_call`). With `seed` and the
    request, it seeds the jitter of each request's retries: concurrent calls on one client back
    off apart, and a replay, which numbers its calls in the same order, draws the same jitter."""
    expansion_concurrency: int = 8
    """How many `include=` expansions run at once."""
    secrets: Secrets = attrs.field(factory=Secrets, converter=_secrets, repr=False, eq=False)
    """The client's credentials (token, credential header values...), masked in every reply and
    failure the protocols see and in every cassette line; never written to a cassette. Given as
    a tuple of strings or a `Secrets` (kept, not copied: `for_call` configurations share it, so a
    credential added while the client runs is masked in all of them)."""

    def __attrs_post_init__(self) -> None:
        for name, kind in _TYPED_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise JobConfigurationError(
                    f"{name} must be a {kind.__name__}, not {type(value).__name__}"
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise JobConfigurationError(f"seed must be an int, not {type(self.seed).__name__}")
        if not (self.http or self.sql):
            raise JobConfigurationError(
                "Configure a Direct Access base URL, a SQL connection, or both"
            )
        if self.sql and not (self.app and self.app.strip()):
            raise JobConfigurationError("The SQL backend needs the application name (app=...)")
        if self.app is not None and not _is_name(_APP_NAME, self.app):
            raise JobConfigurationError(
                "app must be an SQL identifier (plain or double-quoted, optionally dotted such "
                "as DB.APP), not " + repr(self.app)[:100]
            )
        if not _is_name(_SCHEMA_NAME, self.schema):
            raise JobConfigurationError(
                "schema must be an SQL identifier (plain or double-quoted), not "
                + repr(self.schema)[:100]
            )
        _check_number("expansion_concurrency", self.expansion_concurrency, at_least=1, whole=True)
        _ = self._routes  # decided now, so that every `for_call` copy carries them

    def for_call(self, number: int) -> ClientConfig:
        """Return this configuration for the client's call number `number` (0, 1, 2...).

        A client passes ``config.for_call(n)`` to the protocol of its n-th call.
        """
        numbered = object.__new__(type(self))
        fields = numbered.__dict__
        fields.update(self.__dict__)  # checked when `self` was made; only the number changes
        fields["call"] = number
        return numbered

    @property
    def masks(self) -> tuple[str, ...]:
        """What is masked: the `secrets` known now and the forms a JSON body may quote them in."""
        return self.secrets.masks

    @property
    def sql_namespace(self) -> str:
        """``{app}.{schema}``, the prefix of every SQL API object."""
        return f"{self.app}.{self.schema}"

    def backend_for(self, kind: ReasonerType, *, all_users_cancel: bool = False) -> Backend:
        """Return the backend that serves `kind` (the hybrid routing rules).

        Raises:
            JobCapabilityError: the rules need the SQL backend and it is not configured: for
                Logic with `all_users_cancel`, or when the transactions endpoints are unavailable
                (`logic_over_http` False).
        """
        backend = (
            self._route(kind, all_users_cancel=True) if all_users_cancel else self._routes[kind]
        )
        if backend is None:
            why = (
                "cancel(all_users=True) for Logic needs the SQL backend (CANCEL_TRANSACTION)"
                if all_users_cancel
                else "Logic needs the SQL backend here: the Direct Access transactions endpoints"
                " are unavailable (logic_over_http=False)"
            )
            raise JobCapabilityError(why)
        return backend

    @functools.cached_property
    def _routes(self) -> dict[ReasonerType, Backend | None]:
        """The backend of each type, as `_route` decides it: once per client, since
        `__attrs_post_init__` reads it and `for_call` copies it with the fields."""
        return {kind: self._route(kind, all_users_cancel=False) for kind in ReasonerType}

    def _route(self, kind: ReasonerType, *, all_users_cancel: bool) -> Backend | None:
        """Return the backend the rules pick for `kind`, or None when it is SQL and there is
        none (a client of Direct Access alone may still serve the other types)."""
        if not self.http:
            return Backend.SQL
        if not kind.is_logic:
            return Backend.HTTP
        if self.logic_over_http and not all_users_cancel:
            return Backend.HTTP
        return Backend.SQL if self.sql else None
        if not kind.is_logic:
            return Backend.HTTP
        if all_users_cancel:
            if not self.sql:
                raise JobCapabilityError(
                    "cancel(all_users=True) for Logic needs the SQL backend (CANCEL_TRANSACTION)"
                )
            return Backend.SQL
        if self.logic_over_http or not self.sql:
            return Backend.HTTP
        return Backend.SQL
