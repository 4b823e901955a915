"""Whole-exchange time limits on the sync, asyncio and trio drivers.

A server that hangs mid-response or trickles it one byte at a time holds each exchange for 10 s;
every limit here is well under a second, so an exchange that ends within a couple of seconds was
cut by its limit, not by the server. These are bounds with a wide margin, not measurements.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpcore
import pytest
import trio

from jobs_core import (
    HttpRequest,
    JobServerError,
    Now,
    Protocol,
    RetryPolicy,
    SqlFailure,
    SqlQuery,
    TransportError,
)
from jobs_transports import Timeouts
from jobs_transports._async_driver import AsyncDriver
from jobs_transports._h11_exchange import phase_timeout
from jobs_transports._http_executors import AsyncHttp, SyncHttp
from jobs_transports._http_target import HttpTarget
from jobs_transports._sql_executor import SqlExecutor
from jobs_transports._sync_driver import SyncDriver
from tests.drivers.conftest import Runner, run_scenario
from tests.drivers.loopback_server import HOLD_S
from tests.drivers.slow_server import SlowServer
from tests.drivers.uniform import Uniform

MARGIN_S = 2.0
"""What an exchange may overrun its limit by, on a loaded machine; far less than `HOLD_S`."""
ONE_TRY = RetryPolicy(max_attempts=1)


def run_on(
    driver: str,
    protocol: Callable[[], Protocol[Any]],
    *,
    url: str | None = None,
    sql: SqlExecutor | None = None,
) -> tuple[Any, int]:
    """Run `protocol()` on a fresh driver; return its result and the connections left pooled."""
    target = HttpTarget.of(url, None, Timeouts()) if url is not None else None
    if driver == "sync":
        sync = SyncDriver(http=SyncHttp(target) if target else None, sql=sql)
        try:
            result = sync.run(protocol())
            return result, len(sync.http.pool.connections) if sync.http else 0
        finally:
            sync.close()

    async def main() -> tuple[Any, int]:
        driver = AsyncDriver(http=AsyncHttp(target) if target else None, sql=sql)
        try:
            result = await driver.run(protocol())
            return result, len(driver.http.pool.connections) if driver.http else 0
        finally:
            await driver.aclose()

    return asyncio.run(main()) if driver == "asyncio" else trio.run(main)


def request_within(seconds: float) -> Callable[[], Protocol[TransportError | None]]:
    """A protocol that sends one request with a deadline `seconds` away; returns its failure."""

    def protocol() -> Protocol[TransportError | None]:
        now = yield Now()
        try:
            yield HttpRequest("GET", "/v1alpha1/jobs/ML/j1", deadline=now + seconds)
        except TransportError as exc:
            return exc
        return None

    return protocol


def test_a_deadline_caps_the_whole_exchange(driver: str, slow_server: SlowServer) -> None:
    started = time.monotonic()
    failure, pooled = run_on(driver, request_within(0.5), url=slow_server.url)
    assert time.monotonic() - started < 0.5 + MARGIN_S
    assert isinstance(failure, TransportError)
    assert failure.timeout
    assert failure.request_sent
    assert pooled == 0  # the half-read connection was closed, not kept for the next request


def test_a_deadline_that_has_passed_sends_nothing(driver: str, silent_server: SlowServer) -> None:
    failure, _ = run_on(driver, request_within(-1), url=silent_server.url)
    assert isinstance(failure, TransportError)
    assert failure.timeout
    assert not failure.request_sent
    assert silent_server.accepted == 0


def test_a_deadline_caps_a_server_that_never_answers(
    driver: str, silent_server: SlowServer
) -> None:
    started = time.monotonic()
    failure, pooled = run_on(driver, request_within(0.5), url=silent_server.url)
    assert time.monotonic() - started < 0.5 + MARGIN_S
    assert isinstance(failure, TransportError)
    assert (failure.timeout, failure.request_sent, pooled) == (True, True, 0)


@pytest.mark.parametrize("timeouts", [Timeouts(read=0.5), Timeouts(total=0.5)])
def test_a_plain_call_is_bounded_by_its_timeout_as_a_whole(
    driver: str, slow_server: SlowServer, timeouts: Timeouts
) -> None:
    """`read` bounds the whole response, `total` the whole exchange: not each socket read."""

    async def scenario(client: Uniform) -> Any:
        return await client.get("Predictive", "j1")

    options = {"base_url": slow_server.url, "timeouts": timeouts, "retry": ONE_TRY}
    started = time.monotonic()
    with pytest.raises(JobServerError, match="Timeout") as raised:
        run_scenario(driver, options, scenario)
    assert time.monotonic() - started < 0.5 + MARGIN_S
    cause = raised.value.__cause__
    assert isinstance(cause, TransportError)
    assert cause.timeout


class _StuckConnection:
    """A DB-API connection whose statements run until `release` is set (at most `HOLD_S`)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.statements = 0

    def cursor(self) -> Any:
        return self

    def execute(self, text: str, params: Any) -> None:
        self.statements += 1
        self.release.wait(HOLD_S)

    description = None

    def close(self) -> None:
        return None


@pytest.fixture
def stuck_connection() -> Iterator[_StuckConnection]:
    connection = _StuckConnection()
    yield connection
    connection.release.set()


def test_a_deadline_caps_a_sql_statement(driver: str, stuck_connection: _StuckConnection) -> None:
    def protocol() -> Protocol[SqlFailure | None]:
        for _ in range(2):  # the second waits for the connection the first still holds
            now = yield Now()
            try:
                yield SqlQuery("SELECT 1", deadline=now + 0.3)
            except SqlFailure as exc:
                failure = exc
            else:
                return None
        return failure

    started = time.monotonic()
    failure, _ = run_on(driver, protocol, sql=SqlExecutor(connection=stuck_connection))
    assert time.monotonic() - started < 0.6 + MARGIN_S
    assert isinstance(failure, SqlFailure)
    assert failure.connection_lost
    stuck_connection.release.set()
    # The second statement was abandoned before it could start: it never runs late.
    assert stuck_connection.statements == 1


def test_a_phase_gets_what_is_left_of_the_exchange() -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    assert phase_timeout(clock, 10.0, "connect", 2.0, httpcore.ConnectTimeout) == 2.0
    assert phase_timeout(clock, None, "write", 2.0, httpcore.WriteTimeout) == 2.0
    assert phase_timeout(clock, 1.0, "write", 2.0, httpcore.WriteTimeout) == 1.0
    now[0] = 1.5  # a server trickling bytes: each read is quick, their sum is not
    assert phase_timeout(clock, None, "read", 2.0, httpcore.ReadTimeout) == 0.5
    now[0] = 2.0
    with pytest.raises(httpcore.ReadTimeout, match="read phase"):
        phase_timeout(clock, None, "read", 2.0, httpcore.ReadTimeout)
    assert phase_timeout(clock, None, "read", None, httpcore.ReadTimeout) is None
    assert phase_timeout(clock, 5.0, "pool", None, httpcore.PoolTimeout) == 5.0


NO_PHASE_LIMITS = Timeouts(connect=None, read=None, write=None, pool=None, total=None)


@pytest.mark.parametrize("timeout_s", [math.inf, 10**400], ids=["inf", "int past the floats"])
def test_a_wait_without_end_ends_with_the_job(run: Runner, timeout_s: float) -> None:
    """A deadline past any clock: over SQL (every driver) and over HTTP without phase limits
    (sync), the time left reached a blocking wait, which raised OverflowError ("timestamp out of
    range for platform time_t")."""

    async def scenario(client: Uniform) -> str:
        op = await client.create("Prescriptive", "solver", {})
        job = await client.wait("Prescriptive", op.id, timeout_s=timeout_s)
        return str(job.state)

    assert run(scenario, timeouts=NO_PHASE_LIMITS) == "COMPLETED"
