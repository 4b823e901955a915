"""Effects a protocol asks its driver to perform, and the replies it gets back.

A protocol is a generator: ``reply = yield effect`` ... ``return result``. Effects are frozen
values compared by value, so a recorded run can be checked effect by effect. A transport failure is
not a reply: the driver throws a `TransportError` (HTTP) or `SqlFailure` (SQL) into the protocol,
whose retry policy decides what happens next.

| effect | reply |
|---|---|
| `HttpRequest` (to the Direct Access API, or to `origin`) | `HttpResponse` |
| `SqlQuery` | `SqlRows` |
| `Sleep` | None |
| `Now` | the driver's monotonic clock, in seconds |
| `Gather` | each sub-protocol's result or exception, in order |
| `RefreshEndpoint` | None (the driver asks for, or rediscovers, the Direct Access URL) |
| `RenewToken` | None (the driver gets a new Direct Access token, once per refusal) |
| `SignAssertion` | the key-pair login token, signed (a credential, never recorded) |
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Generator
from typing import Any, TypeAlias, TypeVar

import attrs

Headers: TypeAlias = tuple[tuple[str, str], ...]
SqlValue: TypeAlias = str | int | float | bool | None
SqlCell: TypeAlias = str | int | float | bool | decimal.Decimal | dt.datetime | dt.date | None

T = TypeVar("T")


# Without slots, as `Job`: one is made per call, and a frozen instance with a `__dict__` is built
# a third faster than a slotted one (attrs sets a slot through `object.__setattr__`).
@attrs.frozen(slots=False)
class HttpRequest:
    """An HTTP request; `target` is path + query, the driver adds the base URL and credentials.

    `deadline`, when set, is an absolute time on the clock `Now` reads: the driver ends the whole
    exchange (connect, write, the entire response) by then, throwing a `TransportError` with
    ``timeout=True`` into the protocol if it cannot.

    With an `origin` (``scheme://host[:port]``, the account's host for a token exchange) the
    request goes there instead, and the driver adds no Direct Access credentials to it.

    `persist` says the deadline is persistent (a poll's, see `jobs_core._retry.Deadline`): what
    the driver runs beside the request first, an endpoint discovery or a token renewal, then
    rides out transient failures until the deadline too.
    """

    method: str
    target: str
    headers: Headers = ()
    body: bytes = b""
    deadline: float | None = None
    origin: str | None = None
    persist: bool = False


@attrs.frozen(slots=False)  # made per exchange: see `HttpRequest`
class HttpResponse:
    """The reply to `HttpRequest`: whatever status the server answered, 5xx included."""

    status: int
    headers: Headers = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the first header called `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


@attrs.frozen
class SqlQuery:
    """One statement with ``?`` placeholders (qmark paramstyle) and its parameters.

    `operation` names the client operation the statement serves (``"get"``, ``"list"``...), for
    logs and cassettes; it does not change what the driver does. `deadline`, when set, is an
    absolute time on the clock `Now` reads by which the statement must be over: past it the driver
    cancels the statement where it can and throws a `SqlFailure` with ``connection_lost=True``.
    """

    text: str
    params: tuple[SqlValue, ...] = ()
    operation: str = ""
    deadline: float | None = None


@attrs.frozen
class SqlRows:
    """The reply to `SqlQuery`: upper-cased column names and the rows as tuples."""

    columns: tuple[str, ...] = ()
    rows: tuple[tuple[SqlCell, ...], ...] = ()


@attrs.frozen
class Sleep:
    """Pause for `seconds`; the reply is None."""

    seconds: float


@attrs.frozen
class Now:
    """Read the driver's monotonic clock; the reply is a float of seconds."""


@attrs.frozen
class Gather:
    """Run sub-protocols concurrently, at most `limit` at a time.

    The reply is a list with, in order, each protocol's result or the exception it raised.
    """

    protocols: tuple[Protocol[Any], ...] = attrs.field(eq=False)
    limit: int = 8


@attrs.frozen
class RefreshEndpoint:
    """Ask the driver's endpoint provider for a fresh base URL; the reply is None.

    `deadline` and `persist` are those of the request found stale: the driver ends a
    rediscovery by then and, when `persist`, has it ride out transient failures until then.
    """

    deadline: float | None = None
    persist: bool = False


@attrs.frozen
class RenewToken:
    """The service refused the Direct Access token (401): ask the client's token source for a
    new one before the one retry. The reply is None; a fixed token stays as it is.

    `deadline` and `persist` are those of the refused request: the driver ends a token exchange
    by then and, when `persist`, has it ride out transient failures until then.
    """

    deadline: float | None = None
    persist: bool = False


@attrs.frozen
class SignAssertion:
    """Sign a key-pair login token with the user's private key (see docs/connecting.md).

    The reply is the signed JWT as text. It is a credential: the driver performs this effect
    while it renews a token, and it never reaches a cassette.
    """


Effect: TypeAlias = (
    HttpRequest | SqlQuery | Sleep | Now | Gather | RefreshEndpoint | RenewToken | SignAssertion
)
Reply: TypeAlias = HttpResponse | SqlRows | float | list[Any] | str | None
Protocol: TypeAlias = Generator[Effect, Any, T]
"""A protocol yields effects, receives replies, and returns its result."""


class TransportError(Exception):
    """An HTTP exchange that produced no response; drivers throw it into the protocol.

    `request_sent` is False only when the failure certainly happened before any byte of the
    request could reach the server (connect errors), which is what makes a `create` safe to retry.
    `too_large` says the response was refused for its size (larger than the driver accepts): the
    same request would meet the same answer, so it is never retried.
    """

    def __init__(
        self, message: str, *, request_sent: bool, timeout: bool = False, too_large: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_sent = request_sent
        self.timeout = timeout
        self.too_large = too_large


class SqlFailure(Exception):
    """A statement that failed; drivers throw it into the protocol.

    `connection_lost` marks failures of the connection rather than of the statement (the
    statement may not have run), which the retry policy treats as transient. `reconnects` says
    whether the driver opens a new connection after a lost one: False for a connection it was
    given and cannot replace, on which a session that ended stays ended. `statement_sent` False
    says the statement was never sent (the connection stayed busy, or could not be opened), so
    that even a create may be tried again, as an HTTP request that was never sent is.
    """

    def __init__(
        self,
        message: str,
        *,
        errno: int | None = None,
        sqlstate: str | None = None,
        connection_lost: bool = False,
        reconnects: bool = True,
        statement_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno
        self.sqlstate = sqlstate
        self.connection_lost = connection_lost
        self.reconnects = reconnects
        self.statement_sent = statement_sent


ANSWERS: dict[type[Any], tuple[type[Any], type[Exception] | None]] = {
    HttpRequest: (HttpResponse, TransportError),
    SqlQuery: (SqlRows, SqlFailure),
    Now: (float, None),
    Sleep: (type(None), None),
    RefreshEndpoint: (type(None), None),
    RenewToken: (type(None), None),
    SignAssertion: (str, None),
}
"""Each effect but `Gather`: the type of its reply, and the failure a driver may throw instead.
A replay checks every recorded answer against it, so a new effect needs its row here."""
