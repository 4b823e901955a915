"""The DB-API executor: rows in column order whatever the cursor fetches, and what becomes of a
connection whose session is lost (ours is reopened, the caller's is left alone)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import snowflake.connector

from jobs_core import (
    ClientConfig,
    JobConfigurationError,
    RetryPolicy,
    SqlFailure,
    SqlQuery,
    cancel,
    get,
)
from jobs_emulator import Emulator
from jobs_transports import JobClientClosedError, connect, connect_sync
from jobs_transports._async_driver import AsyncDriver
from jobs_transports._sql_executor import SqlExecutor
from jobs_transports._sync_driver import SyncDriver

SELECT = SqlQuery("select 1 as b, 'x' as a, null as c", (), "get")


def dict_rows(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    # Keys in reverse column order: only the names may say which cell is which.
    return {d[0]: cell for d, cell in reversed(list(zip(cursor.description, row, strict=True)))}


@pytest.fixture
def sqlite() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


@pytest.mark.parametrize("factory", [None, sqlite3.Row, dict_rows])
def test_rows_are_cells_in_column_order_whatever_the_cursor_fetches(
    sqlite: sqlite3.Connection, factory: Any
) -> None:
    sqlite.row_factory = factory
    rows = SqlExecutor(connection=sqlite).execute(SELECT)
    assert rows.columns == ("B", "A", "C")
    assert rows.rows == ((1, "x", None),)


class LostSession(Exception):
    """What the connector raises for a session that no longer exists (errno 390111)."""

    def __init__(self) -> None:
        super().__init__("Session no longer exists.  New login required to access the service.")
        self.errno = 390111


class Connection:
    """A connection whose session dies at its first statement, as a real one's does for good."""

    def __init__(self, *, dies: bool) -> None:
        self.dead = False
        self.dies = dies
        self.closed = False
        self.statements = 0

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        self.closed = True


class Cursor:
    description: Any = None

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def execute(self, text: str, params: list[Any]) -> None:
        self.connection.statements += 1
        if self.connection.dies:
            self.connection.dead = True
        if self.connection.dead:
            raise LostSession
        self.description = [("ID",), ("REASONER_TYPE",), ("STATE",)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [("j1", "ML", "RUNNING")]

    def close(self) -> None:
        pass


def test_a_connection_of_ours_whose_session_is_lost_is_reopened_for_the_retry() -> None:
    opened: list[Connection] = []

    def connect() -> Connection:
        opened.append(Connection(dies=not opened))
        return opened[-1]

    config = ClientConfig(sql=True, app="APP", retry=RetryPolicy(initial_backoff_s=0))
    driver = SyncDriver(sql=SqlExecutor(connect=connect), sleep=lambda _: None)
    try:
        job = driver.run(get(config, "Predictive", "j1"))
    finally:
        driver.close()
    assert job is not None
    assert job.id == "j1"
    assert len(opened) == 2
    assert opened[0].closed, "the dead connection is closed when it is dropped"
    assert opened[1].closed, "and the new one when the driver closes"


def test_a_statement_that_fails_on_its_own_keeps_our_connection() -> None:
    opened: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        opened.append(sqlite3.connect(":memory:", check_same_thread=False))
        return opened[-1]

    executor = SqlExecutor(connect=connect)
    with pytest.raises(SqlFailure, match="bindings"):  # a ProgrammingError: the statement's
        executor.execute(SqlQuery("select ?", (), "get"))
    assert executor.execute(SELECT).rows == ((1, "x", None),)
    assert len(opened) == 1
    executor.close()


def test_the_callers_connection_is_never_closed_nor_replaced() -> None:
    connection = Connection(dies=True)
    executor = SqlExecutor(connection=connection)
    for _ in range(2):
        with pytest.raises(SqlFailure, match="Session no longer exists"):
            executor.execute(SELECT)
    executor.close()
    assert connection.statements == 2
    assert not connection.closed


class HangingConnection:
    """A connection whose statements hang until `release` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.running = threading.Event()
        self.finished = threading.Event()
        self.closed = threading.Event()
        self.closed_under_a_statement = False

    def cursor(self) -> HangingCursor:
        assert not self.closed.is_set(), "a statement on a closed connection"
        return HangingCursor(self)

    def close(self) -> None:
        self.closed_under_a_statement = self.running.is_set() and not self.finished.is_set()
        self.closed.set()


class HangingCursor:
    description = (("ID",),)

    def __init__(self, connection: HangingConnection) -> None:
        self.connection = connection

    def execute(self, text: str, params: list[Any]) -> None:
        self.connection.running.set()
        self.connection.release.wait(BOUND_S)
        self.connection.finished.set()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return []

    def close(self) -> None:
        pass


BOUND_S = 30.0
"""Far longer than any step below takes; only a defect waits it out."""


def test_closing_stops_a_call_whose_statement_runs_on_our_connection_without_waiting_for_it() -> (
    None
):
    connection = HangingConnection()
    driver = SyncDriver(sql=SqlExecutor(connect=lambda: connection))
    config = ClientConfig(sql=True, app="APP")
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(driver.run(get(config, "Predictive", "j1")))
        except Exception as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert connection.running.wait(BOUND_S)
    closer = threading.Thread(target=driver.close)
    closer.start()
    closer.join(BOUND_S / 3)
    caller.join(BOUND_S / 3)
    try:
        assert not closer.is_alive(), "close waited for the statement"
        assert not caller.is_alive(), "the call waited for its statement after the close"
        (error,) = outcome
        assert isinstance(error, JobClientClosedError)
        assert not connection.closed.is_set()
    finally:
        connection.release.set()
        closer.join(BOUND_S)
        caller.join(BOUND_S)
    # The abandoned statement closes the connection once it is over.
    assert connection.closed.wait(BOUND_S)
    assert not connection.closed_under_a_statement


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
def test_the_connector_logs_in_again_after_a_lost_session(
    fresh_real_emu: Emulator, library: str
) -> None:
    # The emulator ends the session for good, as Snowflake does: only a new login recovers.
    logins = fresh_real_emu.faults.delay(0, path="/session/v1/login-request", times=None)
    options: dict[str, Any] = {"snowflake": fresh_real_emu.snowflake, "app": fresh_real_emu.app}
    if library == "sync":
        with connect_sync(**options) as client:
            assert client.get("Predictive", "j1") is None
            rule = fresh_real_emu.faults.lost_session()
            assert client.get("Predictive", "j1") is None
            assert client.get("Predictive", "j2") is None
    else:

        async def main() -> None:
            async with connect(**options) as client:
                assert await client.get("Predictive", "j1") is None
                rules.append(fresh_real_emu.faults.lost_session())
                assert await client.get("Predictive", "j1") is None
                assert await client.get("Predictive", "j2") is None

        rules: list[Any] = []
        anyio.run(main, backend=library)
        (rule,) = rules
    assert rule.hits == 1
    assert logins.hits == 2


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
def test_a_lost_session_on_the_callers_connection_fails_at_once_as_a_configuration_error(
    fresh_real_emu: Emulator, library: str
) -> None:
    # The client cannot log in again on a connection it did not open: no retry can help, not
    # even a wait's, which retries a lost session until its deadline.
    connection = snowflake.connector.connect(**fresh_real_emu.snowflake)  # qmark included
    options: dict[str, Any] = {"sql_connection": connection, "app": fresh_real_emu.app}
    rule = fresh_real_emu.faults.lost_session()
    later = fresh_real_emu.faults.delay(0, path="/queries/v1/query-request", times=None)
    ended = r"390111: Session no longer exists.*cannot log in again.*give it a new connection"
    try:
        if library == "sync":
            with connect_sync(**options) as client:
                with pytest.raises(JobConfigurationError, match=ended):
                    client.get("Predictive", "j1")
                with pytest.raises(JobConfigurationError, match=ended):
                    client.wait("Predictive", "j1", timeout_s=600)
        else:

            async def main() -> None:
                async with connect(**options) as client:
                    with pytest.raises(JobConfigurationError, match=ended):
                        await client.get("Predictive", "j1")
                    with pytest.raises(JobConfigurationError, match=ended):
                        await client.wait("Predictive", "j1", timeout_s=600)

            anyio.run(main, backend=library)
    finally:
        connection.close()
    assert (rule.hits, later.hits) == (1, 1), "a statement was retried on the ended session"


class QueueingConnection:
    """A connection whose first statement hangs until `release`; it records every statement."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.running = threading.Event()
        self.statements: list[str] = []

    def cursor(self) -> QueueingCursor:
        return QueueingCursor(self)

    def close(self) -> None:
        pass


class QueueingCursor:
    description = None

    def __init__(self, connection: QueueingConnection) -> None:
        self.connection = connection

    def execute(self, text: str, params: list[Any]) -> None:
        self.connection.statements.append(text)
        self.connection.running.set()
        self.connection.release.wait(BOUND_S)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return []

    def close(self) -> None:
        pass


@pytest.mark.parametrize("library", ["asyncio", "trio"])
@pytest.mark.parametrize("ours", [True, False], ids=["our-connection", "callers-connection"])
def test_a_cancelled_call_whose_statement_waits_for_the_connection_never_runs_it(
    library: str, ours: bool
) -> None:
    connection = QueueingConnection()
    executor = (
        SqlExecutor(connect=lambda: connection) if ours else SqlExecutor(connection=connection)
    )
    config = ClientConfig(sql=True, app="APP")

    async def main() -> None:
        driver = AsyncDriver(sql=executor)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(driver.run, cancel(config, "Predictive", "first"))
                await anyio.to_thread.run_sync(connection.running.wait, BOUND_S)
                with anyio.move_on_after(0.2):  # cancels the second while it waits its turn
                    await driver.run(cancel(config, "Predictive", "second"))
                connection.release.set()
        finally:
            await driver.aclose()

    anyio.run(main, backend=library)
    # A statement that would run late runs as soon as the first one ends: give it a moment.
    for _ in range(50):
        time.sleep(0.02)
        if len(connection.statements) > 1:
            break
    assert connection.statements == ["call APP.api.CANCEL_JOB(?, ?)"]


def test_a_connection_that_cannot_be_opened_says_the_statement_was_never_sent() -> None:
    # So that even a create is tried again: no statement left, no job can exist.
    class OperationalError(Exception):  # PEP 249's name for a failure of the connection
        pass

    def refuse() -> Any:
        raise OperationalError("could not connect")

    executor = SqlExecutor(connect=refuse)
    try:
        with pytest.raises(SqlFailure, match="could not connect") as caught:
            executor.execute(SELECT, time_left=5.0)
    finally:
        executor.close()
    assert caught.value.connection_lost
    assert not caught.value.statement_sent
