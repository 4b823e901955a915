"""SQL effects performed on a DB-API connection (the Snowflake connector, qmark paramstyle).

The connection is used by one statement at a time, under a lock taken in the thread that runs
the statement: an async caller that is cancelled while its statement runs in a worker thread
leaves the statement to finish, and the next caller waits for it, instead of sharing a
half-used connection.

A statement runs in a worker thread that the caller stops waiting for when its deadline passes
or the executor is closed; only a statement without a deadline on the caller's connection runs
in the caller's thread, to its end (connections that belong to one thread, sqlite3's, work).
DB-API has no portable way to cancel a running statement, so it is abandoned: it keeps the
connection until it ends, and the next statement waits for it (within that statement's own
deadline); a statement that had not started when abandoned never runs. Closing never waits for
a running statement: a connection of our own is closed by whoever releases it last.

A connection of our own that fails as lost (`jobs_core.is_lost_connection`: its session expired
or no longer exists, the network went) is closed and forgotten, and the next statement opens a
new one; the caller's connection is theirs to replace.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jobs_core import SqlFailure, SqlQuery, SqlRows, is_lost_connection

Connect = Callable[[], Any]

# PEP 249 names the exception classes; these two mean the connection, not the statement, failed.
_CONNECTION_ERRORS = {"OperationalError", "InterfaceError"}


@contextlib.contextmanager
def sql_errors() -> Iterator[None]:
    """Re-raise any failure of the connection or statement as `SqlFailure`.

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

    A connection may say so itself (Snowflake's have a `paramstyle` property, set per
    connection); otherwise PEP 249's module-level `paramstyle` of the package that defines the
    connection's class says it. A connection that does neither cannot be checked.
    """
    style = getattr(connection, "paramstyle", None)
    if isinstance(style, str):
        return style
    module = type(connection).__module__
    while module:
        style = getattr(sys.modules.get(module), "paramstyle", None)
        if isinstance(style, str):
            return style
        module = module.rpartition(".")[0]
    return None


class SqlExecutor:
    """Runs `SqlQuery`s on one DB-API connection, opening it on first use when it is ours."""

    def __init__(self, *, connection: Any = None, connect: Connect | None = None) -> None:
        self._connection = connection
        self._connect: Connect = connect if connect is not None else (lambda: connection)
        self._owned = connection is None
        self._lock = threading.Lock()
        self._closed = False
        self._waiting: set[threading.Event] = set()
        self._waiting_lock = threading.Lock()

    def describe(self) -> str:
        """Return which connection statements run on, for a `repr` (its type, nothing more)."""
        if not self._owned:
            return f"the caller's {type(self._connection).__name__}"
        return "a connection of its own" + ("" if self._connection else ", opened on first use")

    def execute(
        self,
        query: SqlQuery,
        time_left: float | None = None,
        abandoned: threading.Event | None = None,
    ) -> SqlRows:
        """Run `query` and return its rows (blocking), giving up after `time_left` seconds.

        Setting `abandoned` (from another thread: a caller that was cancelled) means the answer
        is no longer wanted: a statement still waiting for the connection then never runs.

        Raises:
            SqlFailure: the connection or the statement failed, or (``connection_lost=True``)
                the time ran out, the executor was closed or the statement abandoned first.
        """
        abandoned = abandoned if abandoned is not None else threading.Event()
        if time_left is None and not self._owned:
            if self._closed:
                raise SqlFailure("the SQL connection was closed", connection_lost=True)
            return self._execute(query, abandoned)
        finished = threading.Event()
        outcome: list[SqlRows | BaseException] = []

        def statement() -> None:
            try:
                outcome.append(self._execute(query, abandoned))
            except BaseException as exc:  # handed to the waiting caller
                outcome.append(exc)
            finally:
                finished.set()

        with self._waiting_lock:
            start = not self._closed and (time_left is None or time_left > 0)
            if start:
                self._waiting.add(finished)
                threading.Thread(target=statement, name="jobs-sql-statement", daemon=True).start()
        if start:
            try:
                # No thread waits longer than TIMEOUT_MAX (~292 years): past it, a time left
                # (a wait with timeout_s=inf) raises OverflowError. Either is forever.
                finished.wait(None if time_left is None else min(time_left, threading.TIMEOUT_MAX))
            finally:
                with self._waiting_lock:
                    self._waiting.discard(finished)
        if not outcome:
            abandoned.set()
            why = "the SQL connection was closed" if self._closed else "the call's deadline passed"
            raise SqlFailure(f"{why} before the statement finished", connection_lost=True)
        (result,) = outcome
        if isinstance(result, BaseException):
            raise result
        return result

    def _execute(self, query: SqlQuery, abandoned: threading.Event) -> SqlRows:
        try:
            with self._lock:
                if abandoned.is_set() or self._closed:
                    # The caller stopped waiting before the connection was free: never run late.
                    raise SqlFailure("abandoned before it started", connection_lost=True)
                return self._execute_locked(query)
        finally:
            if self._closed:
                # Closed meanwhile: `close` found the connection busy and left it to us.
                self._close_if_idle()

    def _execute_locked(self, query: SqlQuery) -> SqlRows:
        try:
            with sql_errors():
                if self._connection is None:
                    self._connection = self._connect()
                cursor = self._connection.cursor()
                try:
                    cursor.execute(query.text, list(query.params))
                    names = tuple(str(d[0]) for d in cursor.description or ())
                    rows = tuple(_cells(row, names) for row in cursor.fetchall()) if names else ()
                finally:
                    cursor.close()
        except SqlFailure as failure:
            if self._owned and is_lost_connection(failure):
                self._discard_connection()
            raise
        return SqlRows(columns=tuple(name.upper() for name in names), rows=rows)

    def _discard_connection(self) -> None:
        """Forget a connection of our own whose session is gone, so the next statement (the
        retry) opens a new one instead of failing on the dead one forever; closing it is best
        effort, since its session may be unreachable."""
        connection, self._connection = self._connection, None
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
        self._close_if_idle()

    def _close_if_idle(self) -> None:
        """Close our connection unless a statement holds it. Whoever holds it checks `_closed`
        after letting it go, and `close` sets `_closed` before trying: one of them closes it."""
        if self._owned and self._lock.acquire(blocking=False):
            try:
                if self._connection is not None:
                    connection, self._connection = self._connection, None
                    connection.close()
            finally:
                self._lock.release()
