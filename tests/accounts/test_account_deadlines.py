"""A call's deadline bounds the endpoint discovery and the token exchange it needs, on the sync,
asyncio and trio drivers.

The emulator holds the slow request for 6 s; each wait here may take 1.5 s, so a wait that ends
within a couple of seconds of that was ended by its deadline, not by the server. These are bounds
with a wide margin, not measurements.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

import jobs_emulator
from jobs_core import JobTimeoutError
from jobs_transports import connect, connect_sync
from tests.accounts.accounts_setup import APP
from tests.accounts.conftest import KeyFiles

TIMEOUT_S = 1.0
MARGIN_S = 1.5
"""What a wait may overrun its timeout by on a loaded machine; TIMEOUT_S + MARGIN_S < HELD_S."""
HELD_S = 3.5
TTL_S = 2.0


@pytest.fixture(scope="module")
def emu(keys: KeyFiles) -> Iterator[jobs_emulator.Emulator]:
    users = {"ALICE": {"public_key": keys.public_pem}}
    with jobs_emulator.serve(app=APP, users=users, token_ttl_s=TTL_S) as emulator:
        yield emulator


def timed_wait(
    library: str, emu: jobs_emulator.Emulator, slow_path: str, *, created: bool
) -> float:
    """Make `slow_path` hang, then wait `TIMEOUT_S` for a job (one created while the token was
    fresh when `created`, after which the token expires, else one never seen); return how long
    the wait took, once it has raised `JobTimeoutError`."""
    payload = {"emulate": {"duration_s": 60}}
    if library == "sync":
        with connect_sync() as client:
            job_id = client.create("Predictive", "f", payload).id if created else "never-seen"
            emu.faults.delay(HELD_S, path=slow_path)
            if created:
                time.sleep(TTL_S + 0.5)
            started = time.monotonic()
            with pytest.raises(JobTimeoutError):
                client.wait("Predictive", job_id, timeout_s=TIMEOUT_S)
            return time.monotonic() - started

    async def main() -> float:
        async with connect() as client:
            job_id = (await client.create("Predictive", "f", payload)).id if created else "x"
            emu.faults.delay(HELD_S, path=slow_path)
            if created:
                await (asyncio.sleep if library == "asyncio" else trio.sleep)(TTL_S + 0.5)
            started = time.monotonic()
            with pytest.raises(JobTimeoutError):
                await client.wait("Predictive", job_id, timeout_s=TIMEOUT_S)
            return time.monotonic() - started

    return asyncio.run(main()) if library == "asyncio" else trio.run(main)


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
def test_a_token_exchange_ends_with_the_wait_that_needs_it(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    elapsed = timed_wait(library, emu, "/oauth", created=True)
    assert elapsed < TIMEOUT_S + MARGIN_S


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
def test_an_endpoint_discovery_ends_with_the_wait_that_needs_it(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    elapsed = timed_wait(library, emu, "/queries", created=False)
    assert elapsed < TIMEOUT_S + MARGIN_S


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
def test_a_wait_for_another_calls_token_exchange_ends_with_the_wait(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    """A call with no deadline starts the exchange (held `HELD_S`); a wait that needs the same
    token gives up waiting for it at its own deadline."""
    payload = {"emulate": {"duration_s": 60}}
    if library == "sync":
        with connect_sync() as client:
            job_id = client.create("Predictive", "f", payload).id
            emu.faults.delay(HELD_S, path="/oauth")
            time.sleep(TTL_S + 0.5)
            first = threading.Thread(target=client.list, daemon=True)
            first.start()
            time.sleep(0.5)  # the first call is exchanging
            started = time.monotonic()
            with pytest.raises(JobTimeoutError):
                client.wait("Predictive", job_id, timeout_s=TIMEOUT_S)
            elapsed = time.monotonic() - started
            first.join(HELD_S + 10)
    else:

        async def main() -> float:
            sleep = asyncio.sleep if library == "asyncio" else trio.sleep
            async with connect() as client:
                job_id = (await client.create("Predictive", "f", payload)).id
                emu.faults.delay(HELD_S, path="/oauth")
                await sleep(TTL_S + 0.5)

                async def timed() -> float:
                    await sleep(0.5)  # the first call is exchanging
                    started = time.monotonic()
                    with pytest.raises(JobTimeoutError):
                        await client.wait("Predictive", job_id, timeout_s=TIMEOUT_S)
                    return time.monotonic() - started

                if library == "asyncio":
                    _, elapsed = await asyncio.gather(client.list(), timed())
                    return float(elapsed)
                took: list[float] = []

                async def record() -> None:
                    took.append(await timed())

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(client.list)
                    nursery.start_soon(record)
                return took[0]

        elapsed = asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_a_wait_without_a_deadline_to_speak_of_renews_its_token(
    key_pair_home: Path, emu: jobs_emulator.Emulator
) -> None:
    """The sync driver takes the account's lock by the wait's deadline: one 1e300 s away used
    to raise OverflowError (no thread waits past threading.TIMEOUT_MAX)."""
    with connect_sync() as client:
        job_id = client.create("Predictive", "f", {"emulate": {"duration_s": 0.2}}).id
        time.sleep(TTL_S + 0.5)  # the token has expired: the wait's first poll renews it
        job = client.wait("Predictive", job_id, timeout_s=1e300, poll_interval_s=0.1)
        assert job.state == "COMPLETED"
