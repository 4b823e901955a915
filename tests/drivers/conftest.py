"""Fixtures for driver tests: emulators named by scope and clock, and every client as
{sync, asyncio, trio} × backend.

`session_manual_emu` is shared by the whole session on a manual clock that the clients of `run`
move forward as they sleep (see `tests.virtual_time`); `session_real_emu` is shared on real time;
`fresh_real_emu` is a test's own, on real time, for tests whose faults must touch no other test.
"""

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
from tests.virtual_time import VirtualTime

DRIVERS = ("sync", "asyncio", "trio")
BACKENDS = ("http", "sql", "hybrid")
TOKENS = {"tok-alice": "alice", "tok-bob": "bob"}


@pytest.fixture(scope="session")
def session_real_emu() -> Iterator[jobs_emulator.Emulator]:
    """An emulator on real time with the `TOKENS` users, shared by the session."""
    with jobs_emulator.serve(tokens=TOKENS, page_size=10) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def session_manual_emu() -> Iterator[jobs_emulator.Emulator]:
    """An emulator on a manual clock with the `TOKENS` users, shared by the session."""
    with jobs_emulator.serve(tokens=TOKENS, page_size=10, clock="manual") as emulator:
        yield emulator


@pytest.fixture
def fresh_real_emu() -> Iterator[jobs_emulator.Emulator]:
    """An emulator of the test's own on real time, no tokens: its faults touch no other test."""
    with jobs_emulator.serve() as emulator:
        yield emulator


@pytest.fixture
def virtual_time(session_manual_emu: jobs_emulator.Emulator) -> VirtualTime:
    """The clock of `session_manual_emu`, which the clients of `run` sleep on."""
    return VirtualTime(session_manual_emu)


def client_options(
    emu: jobs_emulator.Emulator, backend: str, user: str = "alice"
) -> dict[str, Any]:
    """Return `connect` arguments for `backend`, as `user`."""
    token = next(t for t, u in TOKENS.items() if u == user)
    http: dict[str, Any] = {"base_url": emu.base_url, "token": token}
    sql: dict[str, Any] = {"snowflake": {**emu.snowflake, "user": user}, "app": emu.app}
    return {"http": http, "sql": sql, "hybrid": {**http, **sql}}[backend]


Runner = Callable[..., Any]


def run_scenario(
    driver: str, options: dict[str, Any], scenario: Scenario, time: VirtualTime | None = None
) -> Any:
    """Run `scenario` with a client of `driver` built from `options`, on `time` if given (else
    on real time); return what it returns."""
    if driver == "sync":
        opened = time.connect_sync if time is not None else connect_sync
        with opened(**options) as client:
            return asyncio.run(scenario(Uniform(client)))

    async def main() -> Any:
        async with (time.connect if time is not None else connect)(**options) as client:
            return await scenario(Uniform(client))

    return asyncio.run(main()) if driver == "asyncio" else trio.run(main)


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(
    session_manual_emu: jobs_emulator.Emulator,
    virtual_time: VirtualTime,
    driver: str,
    backend: str,
) -> Runner:
    """`run(scenario, user="alice", **options)`: run `scenario` on this driver and backend, against
    `session_manual_emu` on virtual time."""

    def runner(scenario: Scenario, user: str = "alice", **options: Any) -> Any:
        options = {**client_options(session_manual_emu, backend, user), **options}
        return run_scenario(driver, options, scenario, virtual_time)

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
