"""The SQL executor when a statement's caller gives up (its limit, a cancellation, a close) at the
moment the statement logs in, waits for the connection, runs or ends.

Whatever the order: a statement never starts after its caller gave up (a late create could be a
second job), a connection is closed once and never under a running statement, no thread waits
for a caller that is gone, and a limit reads the same whichever way the statement goes. Fake
connections (`HeldConnection`) hold their first statement until released; limits are short and
every bound is a wide margin over them, not a measurement.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from jobs_core import SqlFailure, SqlRows
from jobs_transports import Timeouts, connect
from jobs_transports._sql_executor import SqlExecutor
from tests.drivers.test_cancellation import Interrupt
from tests.drivers.test_sql_time_limits import (
    SELECT,
    STALL_S,
    HeldConnection,
    SnowflakeLikeCursor,
    statement_threads,
)


def eventually(check: Callable[[], bool]) -> bool:
    """Return True once `check()` holds, polling for up to `STALL_S / 2`."""
    for _ in range(200):
        if check():
            return True
        time.sleep(STALL_S / 400)
    return check()


class Background:
    """Runs `executor.execute(*args)` in a thread; `result` is its rows or its failure."""

    def __init__(self, executor: SqlExecutor, *args: Any) -> None:
        self.result: SqlRows | BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(executor, *args))
        self._thread.start()

    def _run(self, executor: SqlExecutor, *args: Any) -> None:
        try:
            self.result = executor.execute(*args)
        except SqlFailure as failure:
            self.result = failure

    def join(self) -> SqlRows | BaseException | None:
        self._thread.join(STALL_S / 2)
        assert not self._thread.is_alive(), "the caller is still waiting"
        return self.result


def test_a_statement_whose_login_outlasts_its_limit_never_runs() -> None:
    connection = HeldConnection(held=False)
    logged_in = threading.Event()

    def slow_login() -> HeldConnection:
        logged_in.wait(STALL_S)
        return connection

    executor = SqlExecutor(connect=slow_login, timeouts=Timeouts(total=0.2))
    with pytest.raises(SqlFailure, match=r"within 0\.2 s \(Timeouts\.total\)"):
        executor.execute(SELECT)
    logged_in.set()
    assert connection.closed.wait(STALL_S / 2), "the late connection is never closed"
    executor.close()
    assert connection.statements == [], "the statement ran after its caller gave up"


def test_a_statement_never_starts_once_its_deadline_has_passed() -> None:
    earlier = frozenset(threading.enumerate())
    connection = HeldConnection(held=False)
    executor = SqlExecutor(connection=connection, timeouts=Timeouts())
    for time_left in (0.0, -1.0):
        with pytest.raises(SqlFailure, match="the call's deadline passed"):
            executor.execute(SELECT, time_left)
    executor.close()
    assert connection.statements == []
    assert statement_threads(but=earlier) == 0


def test_the_read_limit_bounds_a_statement_once_it_runs() -> None:
    connection = HeldConnection()
    executor = SqlExecutor(connection=connection, timeouts=Timeouts(read=0.2, total=None))
    started = time.monotonic()
    try:
        with pytest.raises(SqlFailure, match=r"within 0\.2 s \(Timeouts\.read\)") as caught:
            executor.execute(SELECT)
        assert caught.value.connection_lost, "not retried as an HTTP read timeout is"
        assert time.monotonic() - started < STALL_S / 2
    finally:
        connection.release.set()
        executor.close()


def test_the_pool_limit_bounds_the_wait_for_a_busy_connection() -> None:
    connection = HeldConnection()
    executor = SqlExecutor(
        connection=connection, timeouts=Timeouts(read=0.2, pool=0.2, total=STALL_S)
    )
    try:
        with pytest.raises(SqlFailure, match=r"Timeouts\.read") as sent:
            executor.execute(SELECT)
        assert sent.value.statement_sent, "a create cut after it was sent may have started a job"
        started = time.monotonic()
        with pytest.raises(SqlFailure, match=r"busy for 0\.2 s \(Timeouts\.pool\)") as caught:
            executor.execute(SELECT)  # the connection is still held by the first one
        assert caught.value.connection_lost
        assert not caught.value.statement_sent, "never sent: even a create may be tried again"
        assert time.monotonic() - started < STALL_S / 2
    finally:
        connection.release.set()
        executor.close()
    assert len(connection.statements) == 1, "the second statement ran late"


def test_a_statement_waiting_behind_a_retired_connection_moves_to_the_new_one() -> None:
    opened: list[HeldConnection] = []

    def open_one() -> HeldConnection:
        opened.append(HeldConnection(held=not opened))
        return opened[-1]

    executor = SqlExecutor(connect=open_one, timeouts=Timeouts(total=None))
    try:
        first = Background(executor, SELECT, 0.3)
        assert eventually(lambda: len(opened) == 1 and len(opened[0].statements) == 1)
        behind = Background(executor, SELECT, STALL_S / 2)  # waits for the held connection
        assert isinstance(first.join(), SqlFailure)
        assert isinstance(behind.join(), SqlRows), "it waited behind the retired connection"
        assert executor.execute(SELECT, STALL_S / 2).rows == (("j1",),)
        assert len(opened) == 2, "a healthy connection was retired"
        assert not opened[1].closed.is_set()
    finally:
        opened[0].release.set()
        executor.close()
    assert opened[0].closed.wait(STALL_S / 2)
    assert opened[1].closed.is_set()


def test_a_close_stops_the_caller_and_closes_the_connection_once_its_statement_ends() -> None:
    connection = HeldConnection()
    executor = SqlExecutor(connect=lambda: connection, timeouts=Timeouts(total=None, read=None))
    caller = Background(executor, SELECT)
    assert eventually(lambda: len(connection.statements) == 1)
    executor.close()
    assert isinstance(caller.join(), SqlFailure)
    assert not connection.closed.is_set(), "closed under its running statement"
    connection.release.set()
    assert connection.closed.wait(STALL_S / 2), "never closed: a leak"


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_a_cancelled_call_leaves_no_thread_waiting_for_it(library: str) -> None:
    """Without any limit, the statement of a cancelled call that waits for the connection must
    not wait for ever (nor the worker thread that waits for it)."""
    earlier = frozenset(threading.enumerate())
    connection = HeldConnection()
    counts: list[int] = []

    async def main() -> None:
        client = connect(
            sql_connection=connection, app="APP", timeouts=Timeouts(read=None, total=None)
        )
        try:
            for _ in range(2):  # the first runs and is held; the second waits for it
                with anyio.move_on_after(0.3):
                    await client.get("Predictive", "j1")
            assert eventually(lambda: statement_threads(but=earlier) == 1)
            counts.append(statement_threads(but=earlier))
        finally:
            connection.release.set()
            await client.aclose()

    anyio.run(main, backend=library)
    assert counts == [1], "the abandoned statement still waits for the connection"
    assert eventually(lambda: statement_threads(but=earlier) == 0)
    assert len(connection.statements) == 1, "the abandoned statement ran late"


def test_an_interrupted_caller_leaves_no_statement_to_run_late() -> None:
    connection = HeldConnection()
    executor = SqlExecutor(connection=connection, timeouts=Timeouts(total=STALL_S))
    try:
        first = Background(executor, SELECT)
        assert eventually(lambda: len(connection.statements) == 1)
        with Interrupt(0.3), pytest.raises(KeyboardInterrupt):
            executor.execute(SELECT)  # waits for the held connection until Ctrl-C
        connection.release.set()
        assert isinstance(first.join(), SqlRows)
        assert executor.execute(SELECT).rows == (("j1",),)
    finally:
        connection.release.set()
        executor.close()
    assert len(connection.statements) == 2, "the interrupted statement ran after all"


def test_a_timeout_the_connector_enforced_is_a_lost_connection_as_ours_is() -> None:
    class Cancelled(Exception):
        """What the 4.x connector raises when its timer had the statement aborted."""

        errno = 604
        sqlstate = "57014"

    class CancellingCursor(SnowflakeLikeCursor):
        def execute(self, text: str, params: list[Any], timeout: int | None = None) -> None:
            super().execute(text, params, timeout)
            raise Cancelled("SQL execution was cancelled by the client due to a timeout.")

    CancellingCursor.__module__ = SnowflakeLikeCursor.__module__
    connection = HeldConnection(held=False)
    connection.cursor = lambda: CancellingCursor(connection)  # type: ignore[method-assign]
    executor = SqlExecutor(connection=connection, timeouts=Timeouts(read=5))
    with pytest.raises(SqlFailure) as caught:
        executor.execute(SELECT)
    executor.close()
    assert caught.value.connection_lost, "retried on 5.x (HYT00), not on 4.x (604)"


def test_a_limit_past_any_clock_reaches_the_connector_as_a_number_of_seconds() -> None:
    connection = HeldConnection(held=False)
    connection.cursor = lambda: SnowflakeLikeCursor(connection)  # type: ignore[method-assign]
    executor = SqlExecutor(connection=connection, timeouts=Timeouts(read=None, total=None))
    rows = executor.execute(SELECT, math.inf).rows  # no limit: timeout_s=inf
    executor.close()
    assert rows == (("j1",),)
    ((_, given),) = connection.statements
    assert given is not None
    assert given <= threading.TIMEOUT_MAX, "the 4.x timer thread could not wait that long"
