"""SQL effects performed on a DB-API connection (the Snowflake connector, qmark paramstyle).

The connection is used by one statement at a time: an async caller that is cancelled while its
statement runs in a worker thread leaves the statement to finish, and the next caller waits for
it, instead of sharing a half-used connection.

Every statement has time limits, as every HTTP exchange has, and the same ones (`Timeouts`):
`pool` bounds waiting for the connection while another statement uses it, `read` the statement
from when it is sent to its last row, `total` the whole (waiting, logging in, running), and a
call's deadline all of it. So a statement that hangs costs its caller `read` (60 s by default)
per attempt, as a server that never answers does over HTTP, and is retried as an HTTP read
timeout is (`connection_lost`: only when the call is safe to repeat, never a create). `read` is
also told to the connector where it takes a limit (see `_connector_limit`). A statement runs in a
worker thread that its caller stops waiting for when a limit passes, the executor is closed or
the caller is cancelled (`abandon`); only a statement without any limit on the caller's
connection, and no way to be cancelled, runs in the caller's thread (connections that belong to
one thread, sqlite3's, work then). DB-API has no portable way to cancel a running statement, so
it is abandoned: it keeps its connection until it ends. A connection of our own whose statement
ran out of time is retired, so that the next statement opens a new one rather than wait behind a
statement that may never end (the retired connection is closed when that ends), unless the driver
cannot run two connections at once (the 5.x Snowflake connector: `connections_run_side_by_side`),
where the next waits for it as on the caller's connection; on the caller's
connection, the next statement waits for it within its own limits. A statement whose caller gave
up before it was sent (waiting for the connection, or logging in) never runs. Closing never waits
for a running statement: a connection of our own is closed by whoever lets it go last.

All state (the slots, each statement's progress, whether the executor is closed) changes under
one condition, which every change notifies: the caller's wait and the statement's see the same
deadline and the same moment of giving up, so a statement is either sent before its caller gives
up (and its outcome or failure is the caller's) or never.

A connection of our own that fails as lost (`jobs_core.is_lost_connection`: its session expired
or no longer exists, the network went) is closed and forgotten, and the next statement opens a
new one. The caller's connection is theirs to replace: its failures say so (``reconnects=False``),
and the core ends a call whose session there has ended at once, as a `JobConfigurationError`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jobs_core import JobConfigurationError, SqlFailure, SqlQuery, SqlRows, is_lost_connection

from ._http_target import Timeouts
from ._time_left import LONGEST_WAIT

Connect = Callable[[], Any]

# PEP 249 names the exception classes; these two mean the connection, not the statement, failed.
_CONNECTION_ERRORS = {"OperationalError", "InterfaceError"}


@contextlib.contextmanager
def sql_errors(*, reconnects: bool) -> Iterator[None]:
    """Re-raise any failure of the connection or statement as `SqlFailure`, with `reconnects`
    (whether a new connection replaces a lost one).

    A DB-API error keeps its message, errno and sqlstate; anything else a driver raises (a
    `TypeError` from bad bindings, say) becomes a failure named after its type, so that only the
    `JobError` family ever reaches the caller.
    """
    try:
        yield
    except Exception as exc:
        names = {cls.__name__ for cls in type(exc).__mro__}
        message = str(getattr(exc, "msg", None) or exc)
        if "Error" not in names:  # not a PEP 249 error
            message = f"{type(exc).__name__}: {message}"
        raise SqlFailure(
            message,
            errno=getattr(exc, "errno", None),
            sqlstate=getattr(exc, "sqlstate", None),
            connection_lost=bool(names & _CONNECTION_ERRORS),
            reconnects=reconnects,
        ) from exc


def _cells(row: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    """Return a row's cells in column order: a cursor may fetch rows as tuples or as mappings of
    column name to cell (a dictionary cursor, a sqlite3 `row_factory`), whose own order (or
    `tuple()` of it, the names) says nothing."""
    if isinstance(row, Mapping):
        return tuple(row[name] for name in names)
    return tuple(row)


def paramstyle_of(connection: object) -> str | None:
    """Return the paramstyle a DB-API connection binds, or None when it does not say.

    A connection may say so itself (Snowflake's are set per connection: a `paramstyle` property
    in connector 5.x, a `_paramstyle` attribute in 4.x, the line Python 3.10 installs); otherwise
    PEP 249's module-level `paramstyle` of the package that defines the connection's class says
    it. A connection that does neither cannot be checked.
    """
    for name in ("paramstyle", "_paramstyle"):
        style = getattr(connection, name, None)
        if isinstance(style, str):
            return style
    module = type(connection).__module__
    while module:
        style = getattr(sys.modules.get(module), "paramstyle", None)
        if isinstance(style, str):
            return style
        module = module.rpartition(".")[0]
    return None


def snowflake_connect(settings: dict[str, Any], timeouts: Timeouts) -> Connect:
    """Return what opens a Snowflake connection with the connector arguments `settings`.

    The connection binds qmark (the statements use ``?``), and a connector that takes a
    connection-wide limit on statements (5.x: `query_timeout`, whole seconds) gets the shorter
    of `timeouts.read` and `timeouts.total`, unless `settings` names one.

    Raises:
        JobConfigurationError: `settings` asks for another paramstyle.
    """
    settings.setdefault("paramstyle", "qmark")
    if settings["paramstyle"] != "qmark":
        raise JobConfigurationError("the SQL API needs paramstyle='qmark'")
    limits = [seconds for seconds in (timeouts.read, timeouts.total) if seconds is not None]
    limit = min(limits, default=None)

    def connect() -> Any:
        import snowflake.connector

        options = dict(settings)
        if limit is not None and _knows_query_timeout():
            options.setdefault("query_timeout", _connector_limit(limit))
        return snowflake.connector.connect(**options)

    return connect


def connections_run_side_by_side() -> bool:
    """Return whether the installed Snowflake connector runs two connections' calls at once, from
    two threads, safely.

    The 5.x connector (calls into its Rust core) does not: this project's tests crashed the
    process (a segfault in the core) about once in twenty runs while one connection's
    statement ran and another connection logged in. The 4.x connector is Python over HTTP, and
    does.
    """
    return not _knows_query_timeout()


def _knows_query_timeout() -> bool:
    """Return whether the installed connector takes a `query_timeout` (5.x does; 4.x would warn
    of an unknown parameter and ignore it)."""
    try:
        from snowflake.connector.connection_config import ConnectionConfig
    except ImportError:
        return False
    return "query_timeout" in getattr(ConnectionConfig, "__dataclass_fields__", {})


@functools.cache
def _takes_timeout(cursor_type: Any) -> bool:
    """Return whether cursors of `cursor_type` are the Snowflake connector's and their `execute`
    declares a `timeout` parameter (asked once per type: a signature costs more than a row).

    The 4.x connector's does: past it, a timer asks the server to abort the statement
    (``/queries/v1/abort-request``), which then fails as cancelled. The 5.x connector's takes
    ``**kwargs`` and ignores a `timeout` (its limit is the connection's `query_timeout`); another
    driver's `timeout` may mean something else, or be refused.
    """
    if not cursor_type.__module__.startswith("snowflake.connector"):
        return False
    try:
        parameter = inspect.signature(cursor_type.execute).parameters.get("timeout")
    except (TypeError, ValueError):  # no signature to read
        return False
    return parameter is not None and parameter.kind is not inspect.Parameter.VAR_KEYWORD


def _connector_limit(seconds: float) -> int:
    """Return `seconds` as the whole seconds a connector's limit takes (at least 1: 0 means none
    to it; at most what its timer thread can wait, `LONGEST_WAIT`: a call without a limit may
    have `math.inf` left)."""
    return max(1, math.ceil(min(seconds, math.floor(LONGEST_WAIT))))


_CANCELLED_ERRNO = 604
"""Snowflake: SQL execution canceled, which is how a statement the 4.x connector's timer had
aborted fails."""


class _Slot:
    """One connection (None until opened, or after it was dropped or closed), whether a statement
    holds it, and whether it is retired: handed to no new statement, closed once free."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.busy = False
        self.retired = False


class _Statement:
    """What a statement's caller and the thread running it share (under the executor's
    condition): its limits, how far it got and its outcome.

    `ends` is the deadline in force, `limit` which one it is: while the statement waits for the
    connection, the earliest of `whole` (the call's deadline, `Timeouts.total`) and the pool
    limit; while it logs in, `whole`; once sent, the earliest of `whole` and `Timeouts.read`.
    """

    def __init__(self, whole: list[tuple[float, str]], abandoned: threading.Event) -> None:
        self.whole = whole
        self.ends: float | None = None
        self.limit = ""
        self.abandoned = abandoned
        self.slot: _Slot | None = None
        self.sent = False
        """Whether it was sent: until then, giving up on it means it never runs."""
        self.done = False
        self.outcome: SqlRows | BaseException | None = None

    def bound(self, *extra: tuple[float, str]) -> None:
        """Make the earliest of `whole` and `extra` the deadline in force."""
        limits = self.whole + list(extra)
        self.ends, self.limit = min(limits) if limits else (None, "")

    def out_of_time(self) -> bool:
        """Return whether the deadline in force has passed."""
        return self.ends is not None and time.monotonic() >= self.ends


_WHY = {
    "call": "the call's deadline passed before the statement finished",
    "total": "the statement did not finish within {:g} s (Timeouts.total)",
    "read": "the statement did not finish within {:g} s (Timeouts.read)",
    "pool": "the connection stayed busy for {:g} s (Timeouts.pool): the statement never started",
}
"""Why a statement was given up, by the limit that passed."""


_NO_LIMITS = Timeouts(connect=None, read=None, write=None, pool=None, total=None)
"""An executor's limits when given none: only a call's deadline bounds its statements."""


class SqlExecutor:
    """Runs `SqlQuery`s on one DB-API connection, opening it on first use when it is ours."""

    def __init__(
        self,
        *,
        connection: Any = None,
        connect: Connect | None = None,
        timeouts: Timeouts | None = None,
        side_by_side: bool = True,
    ) -> None:
        """`timeouts` bound each statement (see the module); None: no limit but a call's
        deadline. `side_by_side` False: the driver cannot run two connections at once
        (`connections_run_side_by_side`), so a connection of ours whose statement ran out of
        time is never replaced while that statement runs: the next waits for it."""
        self._connect: Connect = connect if connect is not None else (lambda: connection)
        self._owned = connection is None
        self._retires = self._owned and side_by_side
        self._slot = _Slot(connection)
        self._timeouts = timeouts if timeouts is not None else _NO_LIMITS
        self._closed = False
        # Guards every slot, statement and `_closed`; notified whenever one of them changes.
        self._changed = threading.Condition()

    def describe(self) -> str:
        """Return which connection statements run on, for a `repr` (its type, nothing more)."""
        if not self._owned:
            return f"the caller's {type(self._slot.connection).__name__}"
        opened = self._slot.connection is not None
        return "a connection of its own" + ("" if opened else ", opened on first use")

    def execute(
        self,
        query: SqlQuery,
        time_left: float | None = None,
        abandoned: threading.Event | None = None,
    ) -> SqlRows:
        """Run `query` and return its rows (blocking), giving up after `time_left` seconds or
        the statement's own limits (`Timeouts` pool, read and total: see the module), whichever
        comes first.

        `abandon(abandoned)` (from another thread: a caller that was cancelled) means the answer
        is no longer wanted: this call returns at once, and a statement that has not started
        never does.

        Raises:
            SqlFailure: the connection or the statement failed, or (``connection_lost=True``)
                the time ran out, the executor was closed or the statement abandoned first.
        """
        now = time.monotonic()
        whole: list[tuple[float, str]] = []
        if time_left is not None:
            whole.append((now + time_left, "call"))
        if self._timeouts.total is not None:
            whole.append((now + self._timeouts.total, "total"))
        statement = _Statement(whole, abandoned if abandoned is not None else threading.Event())
        pool = self._timeouts.pool
        statement.bound(*([] if pool is None else [(now + pool, "pool")]))
        if abandoned is None and not self._owned and not whole and self._timeouts.read is None:
            # Nothing to stop waiting for: in this thread (a connection that belongs to one
            # thread, sqlite3's, works then).
            self._run(statement, query)
            outcome = self._give_up(statement)
        else:
            with self._changed:
                start = not self._closed and not statement.out_of_time()
            if start:
                threading.Thread(
                    target=self._run,
                    args=(statement, query),
                    name="jobs-sql-statement",
                    daemon=True,
                ).start()
            try:
                outcome = self._wait(statement)
            except BaseException:  # a KeyboardInterrupt: the statement must not start later
                self._give_up(statement)
                raise
        if isinstance(outcome, str):
            raise SqlFailure(outcome, connection_lost=True, statement_sent=statement.sent)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def abandon(self, abandoned: threading.Event) -> None:
        """Set `abandoned` (given to an `execute` whose caller is gone) and wake that call."""
        with self._changed:
            abandoned.set()
            self._changed.notify_all()

    def _wait(self, statement: _Statement) -> SqlRows | BaseException | str:
        """Wait until `statement` is done, abandoned, out of time or the executor closed; return
        what `_give_up` returns then (deciding under the same hold of the condition, so that a
        deadline the statement moves meanwhile is not misread)."""
        with self._changed:
            while not (statement.done or statement.abandoned.is_set() or self._closed):
                if statement.ends is not None:
                    left = statement.ends - time.monotonic()
                    if left <= 0:
                        break
                    # No thread waits past TIMEOUT_MAX (~292 years), which is forever anyway.
                    self._changed.wait(min(left, LONGEST_WAIT))
                else:
                    self._changed.wait()
            return self._give_up(statement)

    def _give_up(self, statement: _Statement) -> SqlRows | BaseException | str:
        """Return `statement`'s outcome if it has one; else stop it and return why, for its
        failure.

        One that has not been sent never is. A connection of ours that a statement which ran
        out of time holds is retired (that statement may never end), so that the next
        statement opens a new one instead of waiting behind it; the statement of a cancelled
        caller is left to end, and the next waits for it within its own limit.
        """
        with self._changed:
            if statement.outcome is not None:
                return statement.outcome
            closed = self._closed
            # Not a cancelled caller's (nor an interrupted one's): those left it in time.
            timed_out = not closed and statement.out_of_time()
            statement.abandoned.set()
            slot = statement.slot
            if timed_out and self._retires and slot is not None and not statement.done:
                slot.retired = True
                if self._slot is slot:
                    self._slot = _Slot(None)
                self._changed.notify_all()  # those waiting for `slot` take the new one
        if closed:
            return "the SQL connection was closed before the statement finished"
        if not timed_out:
            return "the statement's caller stopped waiting for it"
        return _WHY[statement.limit].format(getattr(self._timeouts, statement.limit, None))

    def _run(self, statement: _Statement, query: SqlQuery) -> None:
        """Run `statement` once the connection is free, and record its outcome: its rows, its
        failure, or None when it never started (its caller gave up first, or the executor was
        closed). Letting go of the connection and recording the outcome are one step, so a
        caller giving up sees the statement either holding the connection or done."""
        slot = None
        outcome: SqlRows | BaseException | None = None
        try:
            slot = self._take_slot(statement)
            if slot is not None:
                outcome = self._run_on(slot, statement, query)
        except BaseException as exc:  # handed to the caller
            outcome = exc
        finally:
            connection = None
            with self._changed:
                if slot is not None:
                    slot.busy = False
                    if self._owned and (slot.retired or self._closed):
                        connection, slot.connection = slot.connection, None
                statement.outcome, statement.done = outcome, True
                self._changed.notify_all()
            if connection is not None:
                with contextlib.suppress(Exception):  # retired: its session may be gone
                    connection.close()

    def _take_slot(self, statement: _Statement) -> _Slot | None:
        """Return the current slot, now held by `statement`, once it is free; None if the
        statement's caller gave up first or the executor was closed."""
        with self._changed:
            while True:
                if statement.abandoned.is_set() or self._closed or statement.out_of_time():
                    return None
                slot = self._slot  # never a retired one: retiring replaces it
                if not slot.busy:
                    slot.busy = True
                    statement.slot = slot
                    statement.bound()  # logging in: the whole limit only
                    self._changed.notify_all()
                    return slot
                left = None if statement.ends is None else statement.ends - time.monotonic()
                self._changed.wait(None if left is None else min(max(left, 0.0), LONGEST_WAIT))

    def _run_on(self, slot: _Slot, statement: _Statement, query: SqlQuery) -> SqlRows | None:
        """Run `statement` on `slot`, which it holds: log in if need be, then send it unless its
        caller gave up meanwhile (a login may outlast it); return its rows, or None unsent."""
        told = False
        try:
            with sql_errors(reconnects=self._owned):
                if slot.connection is None:
                    slot.connection = self._connect()
                with self._changed:
                    if statement.abandoned.is_set() or self._closed or statement.out_of_time():
                        return None
                    now = time.monotonic()
                    read = self._timeouts.read
                    statement.bound(*([] if read is None else [(now + read, "read")]))
                    statement.sent = True
                    self._changed.notify_all()
                cursor = slot.connection.cursor()
                try:
                    if statement.ends is not None and _takes_timeout(cursor.__class__):
                        # Told the limit, the server stops the statement itself.
                        told = True
                        limit_s = _connector_limit(statement.ends - now)
                        cursor.execute(query.text, list(query.params), timeout=limit_s)
                    else:
                        cursor.execute(query.text, list(query.params))
                    names = tuple(str(d[0]) for d in cursor.description or ())
                    rows = tuple(_cells(row, names) for row in cursor.fetchall()) if names else ()
                finally:
                    cursor.close()
        except SqlFailure as failure:
            # Failed before it was sent (opening the connection): even a create may be retried.
            failure.statement_sent = statement.sent
            if told and failure.errno == _CANCELLED_ERRNO:
                # Aborted at the limit the connector was told: out of time, as if we had given
                # up (the 5.x connector's own limit fails as a lost connection already).
                failure.connection_lost = True
            if self._owned and is_lost_connection(failure):
                self._discard_connection(slot)
            raise
        return SqlRows(columns=tuple(name.upper() for name in names), rows=rows)

    @staticmethod
    def _discard_connection(slot: _Slot) -> None:
        """Forget a connection of our own whose session is gone, so the next statement (the
        retry) opens a new one instead of failing on the dead one forever; closing it is best
        effort, since its session may be unreachable."""
        connection, slot.connection = slot.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        """Stop the callers waiting for statements and refuse new ones; close the connection if
        this executor opened it: at once when it is idle, else by the statement running on it
        when that ends (never waited for). A caller's connection stays open.
        """
        with self._changed:
            self._closed = True
            slot = self._slot
            connection = None
            if self._owned and not slot.busy:
                connection, slot.connection = slot.connection, None
            self._changed.notify_all()
        if connection is not None:
            connection.close()
