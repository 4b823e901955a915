"""Closing a client stops what is in flight, on the sync, asyncio and trio drivers.

The sync client is closed from another thread, the async ones from another task, while a call
runs: a `wait` on a job that runs for a minute, a `get` or a `create` that a server never answers,
a connect that a server never accepts. The call ends at once with `JobClientClosedError`, later
calls are refused with it, and no connection stays open (pytest turns an unclosed socket's
`ResourceWarning` into a failure).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
import trio

import jobs_emulator
from jobs_transports import JobClientClosedError, JobsClient, JobsClientSync, connect, connect_sync
from tests.drivers.conftest import client_options
from tests.drivers.slow_server import SlowServer

CLOSE_AFTER_S = 0.3
MARGIN_S = 2.0
"""How late a call may end after the close, on a loaded machine; far less than the call's own
time (a 60 s job, a server that never answers)."""

Call = Callable[[Any], Any]


def close_during(driver: str, options: dict[str, Any], call: Call) -> JobsClientSync | JobsClient:
    """Start `call(client)`, close the client from elsewhere meanwhile; return the client.

    Asserts that the call ended with `JobClientClosedError` soon after the close.
    """
    started = time.monotonic()
    if driver == "sync":
        sync = connect_sync(**options)
        closer = threading.Timer(CLOSE_AFTER_S, sync.close)
        closer.start()
        try:
            with pytest.raises(JobClientClosedError):
                call(sync)
        finally:
            closer.join()
        client: JobsClientSync | JobsClient = sync
    else:
        client = (
            asyncio.run(_close_async(options, call))
            if driver == "asyncio"
            else trio.run(_close_async, options, call)
        )
    assert time.monotonic() - started < CLOSE_AFTER_S + MARGIN_S
    return client


async def _close_async(options: dict[str, Any], call: Call) -> JobsClient:
    client = connect(**options)

    async def close_soon() -> None:
        await anyio.sleep(CLOSE_AFTER_S)
        await client.aclose()

    async def call_it() -> None:
        with pytest.raises(JobClientClosedError):
            await call(client)

    async with anyio.create_task_group() as group:
        group.start_soon(call_it)
        group.start_soon(close_soon)
    return client


def refuses_new_calls(client: JobsClientSync | JobsClient) -> None:
    if isinstance(client, JobsClientSync):
        with pytest.raises(JobClientClosedError, match="closed"):
            client.get("Predictive", "j1")
    else:
        with pytest.raises(JobClientClosedError, match="closed"):
            asyncio.run(client.get("Predictive", "j1"))


def no_connection_left(client: JobsClientSync | JobsClient) -> None:
    http = getattr(client.gateway, "http", None)
    if http is not None:
        assert http.pool.connections == []


def test_closing_stops_a_wait(
    driver: str, backend: str, session_real_emu: jobs_emulator.Emulator
) -> None:
    job_id = session_real_emu.engine.create_job(
        "ML", "forecaster", {"emulate": {"duration_s": 60}}, user="alice"
    )

    def call(client: Any) -> Any:
        return client.wait("Predictive", job_id, timeout_s=30, poll_interval_s=0.05)

    client = close_during(driver, client_options(session_real_emu, backend), call)
    refuses_new_calls(client)
    no_connection_left(client)


CALLS: dict[str, Call] = {
    "get": lambda client: client.get("Predictive", "j1"),
    # A create's failed exchange is not retried (it may have reached the server): the close must
    # still be what the call reports, not the failed exchange.
    "create": lambda client: client.create("Predictive", "forecaster", {}),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_closing_stops_an_exchange_in_flight(
    driver: str, silent_server: SlowServer, call: Call
) -> None:
    client = close_during(driver, {"base_url": silent_server.url}, call)
    refuses_new_calls(client)
    no_connection_left(client)


@pytest.fixture
def unaccepting_server() -> Iterator[str]:
    """The base URL of a server whose backlog is full: a new connect there waits until it times
    out (Linux drops the handshake rather than refusing it)."""
    with socket.socket() as server, socket.socket() as filler:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        filler.connect(server.getsockname())  # takes the one place in the backlog
        host, port = server.getsockname()
        yield f"http://{host}:{port}"


def test_closing_stops_a_connect_in_flight(driver: str, unaccepting_server: str) -> None:
    client = close_during(driver, {"base_url": unaccepting_server}, CALLS["get"])
    refuses_new_calls(client)
    no_connection_left(client)


def run_in(library: str, function: Callable[[], Awaitable[Any]]) -> Any:
    """Run `function()` in a new event loop of `library`, closed when it returns."""
    if library == "asyncio":
        return asyncio.run(function())  # type: ignore[arg-type]
    return trio.run(function)


@pytest.mark.parametrize("closed_in", ["asyncio", "trio"])
@pytest.mark.parametrize("used_in", ["asyncio", "trio"])
@pytest.mark.parametrize("backend", ["http", "sql"])
def test_a_client_closes_in_another_loop_once_its_own_is_over(
    session_real_emu: jobs_emulator.Emulator, backend: str, used_in: str, closed_in: str
) -> None:
    """As with pytest-asyncio's loop per test and a client per session: `aclose()` raised
    RuntimeError ("Event loop is closed", or trio's "must be called from async context") and
    left every connection open."""
    clients = [connect(**client_options(session_real_emu, backend))]

    async def use() -> None:
        await clients[0].list("Prescriptive", limit=1)

    run_in(used_in, use)
    run_in(closed_in, clients[0].aclose)
    run_in(closed_in, clients[0].aclose)  # closing twice is closing once
    refuses_new_calls(clients[0])
    no_connection_left(clients[0])
    if used_in == "asyncio" and backend == "http":
        # The loop cannot run its transport's close any more: the connection was shut down at
        # once, and its descriptor is freed when collected, asyncio warning then.
        with pytest.warns(ResourceWarning, match="unclosed"):
            collect(clients)


def collect(objects: list[Any]) -> None:
    """Drop the only references to `objects` and collect them."""
    objects.clear()
    gc.collect()
