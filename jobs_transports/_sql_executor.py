"""SQL effects performed on a DB-API connection (the Snowflake connector, qmark paramstyle).

The connection is used by one statement at a time, under a lock taken in the thread that runs
the statement: an async caller that is cancelled while its statement runs in a worker thread
leaves the statement to finish, and the next caller waits for it, instead of sharing a
half-used connection.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from jobs_core import SqlFailure, SqlQuery, SqlRows

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


class SqlExecutor:
    """Runs `SqlQuery`s on one DB-API connection, opening it on first use when it is ours."""

    def __init__(self, *, connection: Any = None, connect: Connect | None = None) -> None:
        self._connection = connection
        self._connect = connect
        self._owned = connection is None
        self._lock = threading.Lock()

    def execute(self, query: SqlQuery) -> SqlRows:
        """Run `query` and return its rows (blocking).

        Raises:
            SqlFailure: the connection or the statement failed.
        """
        with self._lock, sql_errors():
            if self._connection is None:
                assert self._connect is not None
                self._connection = self._connect()
            cursor = self._connection.cursor()
            try:
                cursor.execute(query.text, list(query.params))
                description = cursor.description or ()
                columns = tuple(str(d[0]).upper() for d in description)
                rows = tuple(tuple(row) for row in cursor.fetchall()) if description else ()
            finally:
                cursor.close()
        return SqlRows(columns=columns, rows=rows)

    def close(self) -> None:
        """Close the connection if this executor opened it; a caller's connection stays open."""
        with self._lock:
            if self._owned and self._connection is not None:
                self._connection.close()
                self._connection = None
