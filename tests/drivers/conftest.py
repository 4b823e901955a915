"""Fixtures for driver tests: one emulator, and every client as {sync, asyncio, trio} × backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio

import jobs_emulator
from jobs_transports import connect, connect_sync
from tests.drivers.slow_server import SlowServer
from tests.drivers.uniform import Scenario, Uniform

DRIVERS = ("sync", "asyncio", "trio")
BACKENDS = ("http", "sql", "hybrid")
TOKENS = {"tok-alice": "alice", "tok-bob": "bob"}


@pytest.fixture(scope="session")
def emu() -> Iterator[jobs_emulator.Emulator]:
    with jobs_emulator.serve(tokens=TOKENS, page_size=10) as emulator:
        yield emulator


def client_options(
    emu: jobs_emulator.Emulator, backend: str, user: str = "alice"
) -> dict[str, Any]:
    """Return `connect` arguments for `backend`, as `user`."""
    token = next(t for t, u in TOKENS.items() if u == user)
    http = {"base_url": emu.base_url, "token": token}
    sql = {"snowflake": {**emu.snowflake, "user": user}, "app": emu.app}
    return {"http": http, "sql": sql, "hybrid": {**http, **sql}}[backend]


Runner = Callable[..., Any]


def run_scenario(driver: str, options: dict[str, Any], scenario: Scenario) -> Any:
    """Run `scenario` with a client of `driver` built from `options`; return what it returns."""
    if driver == "sync":
        with connect_sync(**options) as client:
            return asyncio.run(scenario(Uniform(client)))

    async def main() -> Any:
        async with connect(**options) as client:
            return await scenario(Uniform(client))

    return asyncio.run(main()) if driver == "asyncio" else trio.run(main)


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(emu: jobs_emulator.Emulator, driver: str, backend: str) -> Runner:
    """`run(scenario, user="alice", **options)`: run `scenario` on this driver and backend."""

    def runner(scenario: Scenario, user: str = "alice", **options: Any) -> Any:
        return run_scenario(driver, {**client_options(emu, backend, user), **options}, scenario)

    return runner


@pytest.fixture(params=["hang", "trickle"])
def slow_server(request: pytest.FixtureRequest) -> Iterator[SlowServer]:
    """A server that hangs mid-response, then one that trickles it (bounded: see `SlowServer`)."""
    server = SlowServer(str(request.param))
    yield server
    server.stop()


@pytest.fixture
def silent_server() -> Iterator[SlowServer]:
    """A server that reads requests and never answers."""
    server = SlowServer("silent")
    yield server
    server.stop()
