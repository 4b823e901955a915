"""Tokens that expire during a wait, concurrent waits sharing renewals, an endpoint that moves,
the endpoint cache across processes, and secrets kept out of DEBUG logs."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

import jobs_emulator
from jobs_core import Job, PollPolicy
from jobs_transports import connect, connect_sync
from tests.accounts.accounts_setup import APP, PAT, write_yaml
from tests.accounts.conftest import PASSPHRASE, KeyFiles

TTL_S = 2.0
FIXED_POLLING = PollPolicy(factor=1.0, max_interval_s=0.25)


@pytest.fixture(scope="module")
def emu(keys: KeyFiles) -> Iterator[jobs_emulator.Emulator]:
    users = {"ALICE": {"public_key": keys.public_pem}, "PATTY": {"pat": PAT}}
    with jobs_emulator.serve(app=APP, users=users, token_ttl_s=TTL_S) as emulator:
        yield emulator


@pytest.fixture
def key_pair_home(home: Path, emu: jobs_emulator.Emulator, keys: KeyFiles) -> Path:
    keys.encrypted.chmod(0o600)
    credentials = {
        "authenticator": "jwt",
        "private_key_path": str(keys.encrypted),
        "private_key_passphrase": PASSPHRASE,
    }
    write_yaml(home, emu, credentials, "ALICE")
    return home


def reprs(root: object, depth: int = 4) -> str:
    """The reprs of `root` and of every object of this project (or builtin value) its attributes
    hold, `depth` levels down; other libraries' objects (the connector's) are theirs to show."""
    if type(root).__module__.split(".")[0] not in ("jobs_core", "jobs_transports", "builtins"):
        return ""
    shown = [repr(root)]
    if depth:
        for value in getattr(root, "__dict__", {}).values():
            shown.append(reprs(value, depth - 1))
    return "\n".join(shown)


def payload(duration_s: float) -> dict[str, Any]:
    return {"inputs": [1], "emulate": {"duration_s": duration_s}}


def refusals(cassette: Path) -> int:
    """How many times the service refused a token (each 401 makes the client renew it)."""
    lines = [json.loads(line) for line in cassette.read_text().splitlines()[1:]]
    return sum(line["effect"]["type"] == "RenewToken" for line in lines)


def renewals_bound(elapsed: float) -> tuple[int, int]:
    """The fewest and most exchanges a client polling all along needs over `elapsed`, holding
    a token from before: at least one per lifetime after the first token's, at most one per
    shortest usable stretch (a lifetime less the second a whole-second `iat` may hide, less the
    tenth renewed ahead), plus one."""
    return math.ceil(elapsed / TTL_S) - 1, math.ceil(elapsed / ((TTL_S - 1) * 0.9)) + 1


def test_a_wait_outlives_its_token(key_pair_home: Path, emu: jobs_emulator.Emulator) -> None:
    cassette = key_pair_home / "wait.jsonl"
    exchanges = emu.token_exchanges
    with connect_sync(record=cassette, polling=FIXED_POLLING) as client:
        job = client.create("Predictive", "forecaster", payload(8))
        started = time.monotonic()
        final = client.wait("Predictive", job.id, timeout_s=60, poll_interval_s=0.25)
        elapsed = time.monotonic() - started
    assert final.state == "COMPLETED"
    made = emu.token_exchanges - exchanges
    assert refusals(cassette) == 0  # every token was renewed before it expired
    fewest, most = renewals_bound(elapsed)
    assert fewest <= made <= most


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_concurrent_waits_share_each_renewal(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    cassette = key_pair_home / "waits.jsonl"

    async def main() -> tuple[list[Job], float, int]:
        async with connect(record=cassette, polling=FIXED_POLLING) as client:
            operations = [
                await client.create("Predictive", "forecaster", payload(4)) for _ in range(50)
            ]
            exchanges = emu.token_exchanges
            started = time.monotonic()
            waits = [
                client.wait("Predictive", op.id, timeout_s=60, poll_interval_s=0.25)
                for op in operations
            ]
            finals: list[Job] = []
            if library == "asyncio":
                finals = list(await asyncio.gather(*waits))
            else:

                async def one(index: int) -> None:
                    finals.append(await waits[index])

                async with trio.open_nursery() as nursery:
                    for index in range(len(waits)):
                        nursery.start_soon(one, index)
            return finals, time.monotonic() - started, emu.token_exchanges - exchanges

    finals, elapsed, made = asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert [job.state for job in finals] == ["COMPLETED"] * 50
    assert refusals(cassette) == 0
    # 50 waits renewing on their own would make 50 exchanges per lifetime.
    fewest, most = renewals_bound(elapsed)
    assert fewest <= made <= most


def test_an_endpoint_that_moves_mid_wait_is_rediscovered_once(
    home: Path, emu: jobs_emulator.Emulator
) -> None:
    write_yaml(home, emu, {"authenticator": "programmatic_access_token", "token": PAT}, "PATTY")
    lookups = emu.service_endpoint_calls
    moved: list[str] = []

    def move_once(job: Job | None) -> None:
        if not moved:
            moved.append(emu.move_direct_access())

    with connect_sync() as client:
        job = client.create("Predictive", "forecaster", payload(1))
        final = client.wait(
            "Predictive", job.id, timeout_s=30, poll_interval_s=0.1, on_poll=move_once
        )
    assert final.state == "COMPLETED"
    assert emu.service_endpoint_calls == lookups + 2  # the first discovery, and one after the move
    cached = json.loads((home / ".rai" / "endpoints.json").read_text())
    assert cached["emulator"][APP]["endpoint"] == moved[0] == emu.base_url


def test_a_second_process_uses_the_cached_endpoint(
    key_pair_home: Path, emu: jobs_emulator.Emulator
) -> None:
    with connect_sync() as client:
        job_id = client.create("Predictive", "forecaster", payload(0.1)).id
    lookups = emu.service_endpoint_calls
    program = (
        "from jobs_transports import connect_sync\n"
        "with connect_sync() as client:\n"
        f"    print(client.get('Predictive', {job_id!r}).id)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == job_id
    assert emu.service_endpoint_calls == lookups  # no SQL round trip


@pytest.mark.parametrize("login", ["key+passphrase", "pat"])
def test_no_secret_in_debug_logs_or_reprs(
    home: Path,
    emu: jobs_emulator.Emulator,
    keys: KeyFiles,
    login: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys.encrypted.chmod(0o600)
    credentials: dict[str, Any] = {"authenticator": "programmatic_access_token", "token": PAT}
    if login != "pat":
        credentials = {
            "authenticator": "jwt",
            "private_key_path": str(keys.encrypted),
            "private_key_passphrase": PASSPHRASE,
        }
    write_yaml(home, emu, credentials, "PATTY" if login == "pat" else "ALICE")
    caplog.set_level(logging.DEBUG)
    with connect_sync() as client:
        job = client.create("Predictive", "forecaster", payload(0.1))
        client.wait("Predictive", job.id, timeout_s=30, poll_interval_s=0.05)
        shown = reprs(client)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "discovered the endpoint" in logged
    for secret in (PAT, PASSPHRASE, keys.private_pem.splitlines()[1], "Snowflake Token="):
        assert secret not in logged
        assert secret not in shown


def test_a_stale_cached_endpoint_is_found_out_by_the_exchange(
    key_pair_home: Path, emu: jobs_emulator.Emulator
) -> None:
    with connect_sync() as client:
        client.list()
    moved = emu.move_direct_access()
    lookups = emu.service_endpoint_calls
    # A new client starts from the cached, now stale, endpoint: the exchange says it is stale.
    with connect_sync() as client:
        client.list()
    assert emu.service_endpoint_calls == lookups + 1
    cached = json.loads((key_pair_home / ".rai" / "endpoints.json").read_text())
    assert cached["emulator"][APP]["endpoint"] == moved


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
def test_a_token_callable_is_asked_again_after_a_401(
    home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    handed: list[str] = []

    def current_token() -> str:
        # The first token is one the service does not know; the next is the user's PAT.
        handed.append("revoked-token" if not handed else PAT)
        return handed[-1]

    options: dict[str, Any] = {"base_url": emu.base_url, "token": current_token}
    if library == "sync":
        with connect_sync(**options) as client:
            assert client.list() is not None
    else:

        async def main() -> None:
            async with connect(**options) as client:
                assert await client.list() is not None

        asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert handed == ["revoked-token", PAT]


def test_the_endpoint_cache_moves_or_turns_off(
    key_pair_home: Path, emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = key_pair_home / "cache" / "endpoints.json"
    monkeypatch.setenv("RAI_ENDPOINT_FILE", str(elsewhere))
    lookups = emu.service_endpoint_calls
    for _ in range(2):
        with connect_sync() as client:
            client.list()
    assert emu.service_endpoint_calls == lookups + 1
    assert json.loads(elsewhere.read_text())["emulator"][APP]["endpoint"] == emu.base_url
    monkeypatch.setenv("JOBS_ENDPOINT_CACHE", "0")
    lookups = emu.service_endpoint_calls
    for _ in range(2):
        with connect_sync() as client:
            client.list()
    assert emu.service_endpoint_calls == lookups + 2
    assert not (key_pair_home / ".rai" / "endpoints.json").exists()
