"""Every SQL statement has a time limit, as every HTTP exchange has (`Timeouts`), whatever the call.

A statement the server holds fails the call as a `JobServerError` once `Timeouts.total` passes,
like an HTTP read timeout: retried when the call is safe to repeat, never for a create (it may
still take effect on the server: a retry could make a second job). The next statement runs on a
new connection of the client's own, not behind the one that ran out of time, where the connector
can run two connections at once (4.x; with 5.x it waits, and the connector's `query_timeout` ends
the first). The emulator holds
statements with a `delay` rule on the query path: `STALL_S` is far past every limit here, so a
call that ends before it was cut by its limit. These are bounds with a wide margin, not
measurements.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
import snowflake.connector

from jobs_core import JobServerError, RetryPolicy, SqlFailure, SqlQuery
from jobs_emulator import Emulator
from jobs_transports import Timeouts, connect, connect_sync
from jobs_transports._sql_executor import SqlExecutor, _knows_query_timeout, snowflake_connect

QUERY_PATH = "/queries/v1/query-request"
STALL_S = 8.0
"""How long the emulator holds a stalled statement: only a statement without a limit waits it
out."""
LIMIT = Timeouts(total=1.0)
FAST = RetryPolicy(initial_backoff_s=0.01)
LIBRARIES = ["sync", "asyncio", "trio"]
TIMED_OUT = r"within 1 s \(Timeouts.total\)|timed out after 1s"
"""The executor's limit, or the same limit in the 5.x connector (`query_timeout`), whichever
ends the statement first."""


def run(library: str, emu: Emulator, calls: Callable[[Any], Awaitable[Any] | Any]) -> Any:
    """Return what `calls(client)` returns on a client of `library` over `emu`'s SQL API that
    opens its own connections, under `LIMIT`."""
    options: dict[str, Any] = {
        "snowflake": emu.snowflake,
        "app": emu.app,
        "timeouts": LIMIT,
        "retry": FAST,
    }
    if library == "sync":
        with connect_sync(**options) as client:
            return calls(client)

    async def main() -> Any:
        async with connect(**options) as client:
            return await calls(client)

    return anyio.run(main, backend=library)


def sql_counters(emu: Emulator) -> tuple[Any, Any]:
    """Stall the next statement; return its rule and one that counts the statements after it."""
    stall = emu.faults.delay(STALL_S, path=QUERY_PATH)
    later = emu.faults.delay(0, path=QUERY_PATH, times=None)
    return stall, later


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_stalled_read_is_cut_at_its_limit_and_retried(
    fresh_real_emu: Emulator, library: str
) -> None:
    stall, later = sql_counters(fresh_real_emu)
    started = time.monotonic()
    job = run(library, fresh_real_emu, lambda client: client.get("Predictive", "j1"))
    assert time.monotonic() - started < STALL_S / 2
    assert job is None
    assert (stall.hits, later.hits) == (1, 1)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_stalled_create_fails_at_its_limit_is_never_retried_and_the_next_call_works(
    fresh_real_emu: Emulator, library: str
) -> None:
    stall, later = sql_counters(fresh_real_emu)
    started = time.monotonic()

    def create_then_get_sync(client: Any) -> Any:
        with pytest.raises(JobServerError, match=TIMED_OUT):
            client.create("Predictive", "w1", {"model": "m"})
        return client.get("Predictive", "j1")

    async def create_then_get(client: Any) -> Any:
        with pytest.raises(JobServerError, match=TIMED_OUT):
            await client.create("Predictive", "w1", {"model": "m"})
        return await client.get("Predictive", "j1")

    job = run(
        library, fresh_real_emu, create_then_get_sync if library == "sync" else create_then_get
    )
    assert time.monotonic() - started < STALL_S / 2, "the get waited behind the stalled create"
    assert job is None
    # One create reached the server (it is still held there), then the get: no second create.
    assert (stall.hits, later.hits) == (1, 1)
    assert fresh_real_emu.engine.list_jobs() == []


class HeldConnection:
    """A connection whose first statement hangs until `release` (unless not `held`); it records
    every statement and the `timeout` each was given."""

    def __init__(self, *, held: bool = True) -> None:
        self.held = held
        self.release = threading.Event()
        self.statements: list[tuple[str, Any]] = []
        self.closed = threading.Event()

    def cursor(self) -> HeldCursor:
        return HeldCursor(self)

    def close(self) -> None:
        self.closed.set()


class HeldCursor:
    description = (("ID",),)

    def __init__(self, connection: HeldConnection) -> None:
        self.connection = connection

    def execute(self, text: str, params: list[Any], timeout: int | None = None) -> None:
        self.connection.statements.append((text, timeout))
        if self.connection.held and len(self.connection.statements) == 1:
            self.connection.release.wait(STALL_S)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [("j1",)]

    def close(self) -> None:
        pass


class SnowflakeLikeCursor(HeldCursor):
    """A cursor of the 4.x connector's shape: its `execute` takes a `timeout`."""


SnowflakeLikeCursor.__module__ = "snowflake.connector.cursor"


def statement_threads(but: frozenset[threading.Thread] = frozenset()) -> int:
    """Return how many threads run or wait to run a statement, leaving out those in `but` (an
    earlier test's, still ending in this process)."""
    return sum(
        thread.name == "jobs-sql-statement" and thread not in but
        for thread in threading.enumerate()
    )


SELECT = SqlQuery("SELECT ID FROM T", (), "get")


def test_our_connection_is_replaced_when_a_statement_runs_out_of_time() -> None:
    opened: list[HeldConnection] = []

    def open_one() -> HeldConnection:
        opened.append(HeldConnection(held=not opened))
        return opened[-1]

    executor = SqlExecutor(connect=open_one, timeouts=Timeouts(total=0.2))
    try:
        with pytest.raises(SqlFailure, match=r"within 0\.2 s") as caught:
            executor.execute(SELECT)
        assert caught.value.connection_lost
        assert executor.execute(SELECT).rows == (("j1",),), "the next one waited behind it"
        assert len(opened) == 2
        assert not opened[0].closed.is_set(), "closed under its running statement"
    finally:
        opened[0].release.set()
        executor.close()
    assert opened[0].closed.wait(STALL_S), "the held connection is closed once it is free"
    assert opened[1].closed.is_set()


def test_a_driver_that_cannot_run_two_connections_at_once_keeps_one() -> None:
    # The 5.x Snowflake connector's core crashes the process when a second connection logs in
    # while the first one's statement runs: the next statement waits for the first to end.
    opened: list[HeldConnection] = []

    def open_one() -> HeldConnection:
        opened.append(HeldConnection(held=not opened))
        return opened[-1]

    executor = SqlExecutor(connect=open_one, timeouts=Timeouts(total=0.2), side_by_side=False)
    try:
        with pytest.raises(SqlFailure, match=r"within 0\.2 s"):
            executor.execute(SELECT)
        with pytest.raises(SqlFailure, match=r"within 0\.2 s") as waited:
            executor.execute(SELECT)  # the first still holds the only connection
        assert not waited.value.statement_sent
        assert len(opened) == 1, "a second connection was opened beside the busy one"
        opened[0].release.set()
        rows: tuple[Any, ...] = ()
        for _ in range(50):  # the held statement ends at once; on a loaded machine, soon
            with contextlib.suppress(SqlFailure):
                rows = executor.execute(SELECT).rows
                break
        assert rows == (("j1",),)
        assert len(opened) == 1
    finally:
        opened[0].release.set()
        executor.close()
    assert opened[0].closed.wait(STALL_S)


def test_the_callers_connection_is_waited_for_within_the_next_statements_limit() -> None:
    earlier = frozenset(threading.enumerate())
    connection = HeldConnection()
    executor = SqlExecutor(connection=connection, timeouts=Timeouts(total=0.2))
    with pytest.raises(SqlFailure, match=r"within 0\.2 s"):
        executor.execute(SELECT)
    with pytest.raises(SqlFailure, match=r"within 0\.2 s"):
        executor.execute(SELECT)  # still held: it never starts, so never runs late
    # The second statement's thread gave up waiting for the connection with its caller: only the
    # held statement's remains.
    for _ in range(100):
        if statement_threads(but=earlier) == 1:
            break
        time.sleep(0.02)
    assert statement_threads(but=earlier) == 1
    connection.release.set()
    rows: tuple[Any, ...] = ()
    for _ in range(50):  # the held statement ends at once; on a loaded machine, soon
        with contextlib.suppress(SqlFailure):
            rows = executor.execute(SELECT).rows
            break
    executor.close()
    assert rows == (("j1",),)
    assert not connection.closed.is_set()
    assert len(connection.statements) == 2, "the abandoned second statement ran late"


@pytest.mark.parametrize(
    ("timeouts", "deadline_s", "expected"),
    [
        (Timeouts(read=2.5), None, 3),  # whole seconds, rounded up
        (Timeouts(read=60, total=4.2), None, 5),  # what is left of the whole statement
        (Timeouts(read=60, total=None), 1.5, 2),  # what is left of the call
    ],
)
def test_a_connector_that_takes_a_timeout_is_told_the_statements_limit(
    timeouts: Timeouts, deadline_s: float | None, expected: int
) -> None:
    connection = HeldConnection(held=False)
    connection.cursor = lambda: SnowflakeLikeCursor(connection)  # type: ignore[method-assign]
    executor = SqlExecutor(connection=connection, timeouts=timeouts)
    executor.execute(SELECT, deadline_s)
    executor.close()
    assert connection.statements == [(SELECT.text, expected)]


def test_other_cursors_are_never_given_a_timeout() -> None:
    connection = HeldConnection(held=False)
    executor = SqlExecutor(connection=connection, timeouts=Timeouts(read=2.5))
    executor.execute(SELECT)
    executor.close()
    assert connection.statements == [(SELECT.text, None)]


@pytest.mark.skipif(not _knows_query_timeout(), reason="the connector has no query_timeout")
@pytest.mark.parametrize(
    ("settings", "timeouts", "expected"),
    [
        ({}, Timeouts(), 60),
        ({}, Timeouts(read=None, total=2.5), 3),
        ({"query_timeout": 7}, Timeouts(), 7),
        ({}, Timeouts(read=None, total=None), None),
    ],
)
def test_a_connection_of_our_own_gets_the_statement_limit(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], timeouts: Timeouts, expected: Any
) -> None:
    given: list[dict[str, Any]] = []
    monkeypatch.setattr(snowflake.connector, "connect", lambda **kwargs: given.append(kwargs))
    snowflake_connect({"account": "a", **settings}, timeouts)()
    (kwargs,) = given
    assert kwargs.get("query_timeout") == expected
    assert kwargs["paramstyle"] == "qmark"
