"""SQL effects performed on a DB-API connection (the Snowflake connector, qmark paramstyle).

The connection is used by one statement at a time, under a lock taken in the thread that runs
the statement: an async caller that is cancelled while its statement runs in a worker thread
leaves the statement to finish, and the next caller waits for it, instead of sharing a
half-used connection.

Every statement has a time limit, as every HTTP exchange has (`Timeouts`): `total` bounds the
whole statement, from waiting for the connection (and logging in) to its last row, and a call's
deadline bounds it further; `read` bounds the statement on the server, which the connector is told
where it can be (see `_connector_limit`). A statement runs in a worker thread that the caller
stops waiting for when its limit passes or the executor is closed; only a statement without any
limit on the caller's connection runs in the caller's thread, to its end (connections that belong
to one thread, sqlite3's, work then). DB-API has no portable way to cancel a running statement,
so it is abandoned: it keeps its connection until it ends. A connection of our own whose
statement ran out of time is retired, so that the next statement opens a new one rather than
wait behind a statement that may never end (the retired connection is closed when that ends); on
the caller's connection, the next statement waits for it within its own limit. A statement that
had not started when abandoned never runs. Closing never waits for a running statement: a
connection of our own is closed by whoever releases it last.

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
    to it)."""
    return max(1, math.ceil(seconds))


class _OutOfTime(Exception):
    """A statement's limit passed while it waited for the connection: it never started."""


class _Slot:
    """One connection (None until opened, or after it was dropped) and the lock its statements
    take turns on. A retired slot is handed to no new statement."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.lock = threading.Lock()
        self.retired = False


class SqlExecutor:
    """Runs `SqlQuery`s on one DB-API connection, opening it on first use when it is ours."""

    def __init__(
        self,
        *,
        connection: Any = None,
        connect: Connect | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        """`timeouts` bound each statement (see the module); None: no limit but a call's
        deadline."""
        self._connect: Connect = connect if connect is not None else (lambda: connection)
        self._owned = connection is None
        self._slot = _Slot(connection)
        self._total = timeouts.total if timeouts is not None else None
        self._read = timeouts.read if timeouts is not None else None
        self._closed = False
        self._waiting: set[threading.Event] = set()
        self._waiting_lock = threading.Lock()

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
        the statement's own limit (`Timeouts.total`), whichever comes first.

        Setting `abandoned` (from another thread: a caller that was cancelled) means the answer
        is no longer wanted: a statement still waiting for the connection then never runs.

        Raises:
            SqlFailure: the connection or the statement failed, or (``connection_lost=True``)
                the time ran out, the executor was closed or the statement abandoned first.
        """
        abandoned = abandoned if abandoned is not None else threading.Event()
        limit = time_left
        if self._total is not None:
            limit = self._total if time_left is None else min(time_left, self._total)
        if limit is None and not self._owned:
            if self._closed:
                raise SqlFailure("the SQL connection was closed", connection_lost=True)
            return self._execute(query, abandoned, None)
        finished = threading.Event()
        outcome: list[SqlRows | BaseException] = []
        ends = None if limit is None else time.monotonic() + limit

        def statement() -> None:
            try:
                outcome.append(self._execute(query, abandoned, ends))
            except _OutOfTime:  # the caller gives up as well, and says why
                pass
            except BaseException as exc:  # handed to the waiting caller
                outcome.append(exc)
            finally:
                finished.set()

        with self._waiting_lock:
            start = not self._closed and (limit is None or limit > 0)
            if start:
                self._waiting.add(finished)
                threading.Thread(target=statement, name="jobs-sql-statement", daemon=True).start()
        if start:
            try:
                # No thread waits longer than TIMEOUT_MAX (~292 years): past it, a time left
                # (a wait with timeout_s=inf) raises OverflowError. Either is forever.
                finished.wait(None if limit is None else min(limit, LONGEST_WAIT))
            finally:
                with self._waiting_lock:
                    self._waiting.discard(finished)
        if not outcome:
            abandoned.set()
            raise SqlFailure(self._abandon(time_left, started=start), connection_lost=True)
        (result,) = outcome
        if isinstance(result, BaseException):
            raise result
        return result

    def _abandon(self, time_left: float | None, *, started: bool) -> str:
        """Give up on a statement that has not finished; return why, for its failure.

        A connection of ours that a `started` statement holds or waits for is retired (a
        statement that ran out of time may never end), so that the next statement opens a new
        one instead of waiting behind it.
        """
        if self._closed:
            return "the SQL connection was closed before the statement finished"
        if self._owned and started:
            with self._waiting_lock:
                slot, self._slot = self._slot, _Slot(None)
            slot.retired = True
            self._close_if_idle(slot)
        if self._total is not None and (time_left is None or self._total <= time_left):
            return f"the statement did not finish within {self._total:g} s (Timeouts.total)"
        return "the call's deadline passed before the statement finished"

    def _execute(self, query: SqlQuery, abandoned: threading.Event, ends: float | None) -> SqlRows:
        """Run `query` on the current connection once it is free, unless abandoned meanwhile.

        Raises:
            _OutOfTime: the connection stayed busy until `ends`: the statement never starts, and
                its thread ends with its caller's wait (a connection that never frees up gathers
                no waiting threads).
            SqlFailure: as `execute`.
        """
        while True:
            slot = self._slot
            wait = -1.0 if ends is None else min(max(ends - time.monotonic(), 0.0), LONGEST_WAIT)
            if not slot.lock.acquire(timeout=wait):
                raise _OutOfTime
            try:
                if ends is not None and time.monotonic() >= ends:
                    raise _OutOfTime
                if abandoned.is_set() or self._closed:
                    # The caller stopped waiting before the connection was free: never run late.
                    raise SqlFailure("abandoned before it started", connection_lost=True)
                if not slot.retired:
                    return self._execute_locked(slot, query, ends)
            finally:
                slot.lock.release()
                if slot.retired or self._closed:
                    # Closed or retired meanwhile: whoever finds it idle closes it.
                    self._close_if_idle(slot)

    def _execute_locked(self, slot: _Slot, query: SqlQuery, ends: float | None) -> SqlRows:
        try:
            with sql_errors(reconnects=self._owned):
                if slot.connection is None:
                    slot.connection = self._connect()
                cursor = slot.connection.cursor()
                try:
                    limit = self._read
                    if ends is not None:
                        left = ends - time.monotonic()
                        limit = left if limit is None else min(limit, left)
                    if limit is not None and _takes_timeout(cursor.__class__):
                        # Told the limit, the server stops the statement itself.
                        limit_s = _connector_limit(limit)
                        cursor.execute(query.text, list(query.params), timeout=limit_s)
                    else:
                        cursor.execute(query.text, list(query.params))
                    names = tuple(str(d[0]) for d in cursor.description or ())
                    rows = tuple(_cells(row, names) for row in cursor.fetchall()) if names else ()
                finally:
                    cursor.close()
        except SqlFailure as failure:
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
        with self._waiting_lock:
            self._closed = True
            for finished in self._waiting:
                finished.set()
        self._close_if_idle(self._slot)

    def _close_if_idle(self, slot: _Slot) -> None:
        """Close `slot`'s connection, if ours, unless a statement holds it. Whoever holds it
        checks `_closed` and `retired` after letting it go, and `close` and `_abandon` set them
        before trying: one of them closes it."""
        if self._owned and slot.lock.acquire(blocking=False):
            try:
                if slot.connection is not None:
                    connection, slot.connection = slot.connection, None
                    connection.close()
            finally:
                slot.lock.release()
