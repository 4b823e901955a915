"""connect() with no arguments, against the emulator with registered users: the configuration is
found in a file, the endpoint discovered over SQL, key-pair logins exchanged for tokens, and the
calls go over Direct Access, on every driver; recorded, the session replays with no server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

import jobs_emulator
from jobs_transports import JobsClient, JobsClientSync, connect, connect_sync
from jobs_transports.cli import main as jobs_command
from tests.accounts.accounts_setup import APP, PAT, WRITERS
from tests.accounts.conftest import PASSPHRASE, KeyFiles

SHAPES = tuple(WRITERS)
LOGINS = ("key", "key+passphrase", "pat")


@pytest.fixture(scope="module")
def emu(keys: KeyFiles) -> Iterator[jobs_emulator.Emulator]:
    users = {"ALICE": {"public_key": keys.public_pem}, "PATTY": {"pat": PAT}}
    with jobs_emulator.serve(app=APP, users=users, token_ttl_s=600) as emulator:
        yield emulator


def configure(
    home: Path,
    emu: jobs_emulator.Emulator,
    keys: KeyFiles,
    shape: str,
    login: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Write the `shape` file for `login`; Snowflake's file gets Direct Access from the env."""
    keys.plain.chmod(0o600)
    keys.encrypted.chmod(0o600)
    credentials: dict[str, Any]
    if login == "pat":
        token_file = home / "pat.txt"
        token_file.write_text(PAT + "\n")
        credentials = {
            "authenticator": "programmatic_access_token",
            "token_file_path": str(token_file),
        }
    else:
        credentials = {"authenticator": "jwt", "private_key_path": str(keys.plain)}
        if login == "key+passphrase":
            credentials = {
                "authenticator": "jwt",
                "private_key_path": str(keys.encrypted),
                "private_key_passphrase": PASSPHRASE,
            }
    WRITERS[shape](home, emu, credentials, "PATTY" if login == "pat" else "ALICE")
    if shape == "connections":
        # Snowflake's files have no Direct Access switch (docs/connecting.md).
        monkeypatch.setenv("JOBS_DIRECT_ACCESS", "1")


def payload(duration_s: float) -> dict[str, Any]:
    return {"inputs": [1], "emulate": {"duration_s": duration_s}}


def sync_session(client: JobsClientSync) -> tuple[str, str, str]:
    done = client.create("Predictive", "forecaster", payload(0.2))
    final = client.wait("Predictive", done.id, timeout_s=30, poll_interval_s=0.05)
    running = client.create("Prescriptive", "solver", payload(60))
    client.cancel("Prescriptive", running.id)
    cancelled = client.get("Prescriptive", running.id)
    assert cancelled is not None
    listed = {job.id for job in client.list()}
    assert {done.id, running.id} <= listed
    return final.state, cancelled.state, "listed"


async def async_session(client: JobsClient) -> tuple[str, str, str]:
    done = await client.create("Predictive", "forecaster", payload(0.2))
    final = await client.wait("Predictive", done.id, timeout_s=30, poll_interval_s=0.05)
    running = await client.create("Prescriptive", "solver", payload(60))
    await client.cancel("Prescriptive", running.id)
    cancelled = await client.get("Prescriptive", running.id)
    assert cancelled is not None
    listed = {job.id for job in await client.list()}
    assert {done.id, running.id} <= listed
    return final.state, cancelled.state, "listed"


def effects(cassette: Path) -> list[str]:
    lines = [json.loads(line) for line in cassette.read_text().splitlines()[1:]]
    return [line["effect"]["type"] for line in lines]


@pytest.mark.parametrize("login", LOGINS)
@pytest.mark.parametrize("shape", SHAPES)
def test_connect_sync_with_no_arguments(
    home: Path,
    emu: jobs_emulator.Emulator,
    keys: KeyFiles,
    shape: str,
    login: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(home, emu, keys, shape, login, monkeypatch)
    lookups, exchanges = emu.service_endpoint_calls, emu.token_exchanges
    cassette = home / "session.jsonl"
    with connect_sync(record=cassette) as client:
        outcome = sync_session(client)
    assert outcome == ("COMPLETED", "CANCELED", "listed")
    assert emu.service_endpoint_calls == lookups + 1
    assert emu.token_exchanges == exchanges + (0 if login == "pat" else 1)
    # Every call went over Direct Access: the SQL connection only found the endpoint.
    assert set(effects(cassette)) <= {"HttpRequest", "Now", "Sleep"}
    text = cassette.read_text()
    for secret in (PAT, PASSPHRASE, keys.private_pem.splitlines()[1], "Snowflake Token="):
        assert secret not in text
    endpoints = json.loads((home / ".rai" / "endpoints.json").read_text())
    assert endpoints["emulator"][APP]["endpoint"] == emu.base_url
    # The recorded session replays with no server at all.
    with connect_sync(replay=cassette) as replayed:
        assert sync_session(replayed) == outcome


@pytest.mark.parametrize("library", ["asyncio", "trio"])
@pytest.mark.parametrize(
    ("shape", "login"), [("yaml", "key"), ("toml", "key+passphrase"), ("connections", "pat")]
)
def test_connect_with_no_arguments(
    home: Path,
    emu: jobs_emulator.Emulator,
    keys: KeyFiles,
    shape: str,
    login: str,
    library: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(home, emu, keys, shape, login, monkeypatch)
    lookups, exchanges = emu.service_endpoint_calls, emu.token_exchanges

    async def main() -> tuple[str, str, str]:
        async with connect() as client:
            return await async_session(client)

    outcome = asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert outcome == ("COMPLETED", "CANCELED", "listed")
    assert emu.service_endpoint_calls == lookups + 1
    assert emu.token_exchanges == exchanges + (0 if login == "pat" else 1)


def test_snowflake_connections_without_direct_access_use_the_sql_api(
    home: Path, emu: jobs_emulator.Emulator, keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(home, emu, keys, "connections", "key", monkeypatch)
    monkeypatch.delenv("JOBS_DIRECT_ACCESS")
    lookups = emu.service_endpoint_calls
    cassette = home / "session.jsonl"
    with connect_sync(record=cassette) as client:
        assert (client.config.http, client.config.app) == (False, APP)
        assert sync_session(client) == ("COMPLETED", "CANCELED", "listed")
    assert set(effects(cassette)) <= {"SqlQuery", "Now", "Sleep"}
    assert emu.service_endpoint_calls == lookups


@pytest.mark.parametrize("shape", SHAPES)
def test_jobs_list_with_no_options(
    home: Path,
    emu: jobs_emulator.Emulator,
    keys: KeyFiles,
    shape: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(home, emu, keys, shape, "key+passphrase", monkeypatch)
    with connect_sync() as client:
        job_id = client.create("Predictive", "forecaster", payload(0.1)).id
    assert jobs_command(["--json", "list", "Predictive"]) == 0
    printed = capsys.readouterr()
    assert job_id in printed.out
    assert PASSPHRASE not in printed.out + printed.err


@pytest.mark.parametrize("direct_access", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_file_that_leaves_the_connector_s_logout_setting_unset_connects_without_warnings(
    home: Path,
    emu: jobs_emulator.Emulator,
    keys: KeyFiles,
    shape: str,
    direct_access: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The suite turns warnings into errors: a connector FutureWarning would fail the login.
    configure(home, emu, keys, shape, "pat", monkeypatch)
    setting = "enable_server_session_keep_alive_auto_detection"
    for path in home.rglob("*.*ml"):
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if setting not in line))
    if not direct_access:
        monkeypatch.setenv("JOBS_DIRECT_ACCESS", "0")
    with connect_sync() as client:
        assert client.config.http is direct_access
        done = client.create("Predictive", "forecaster", payload(0.1))
        assert client.wait("Predictive", done.id, timeout_s=30, poll_interval_s=0.05).state == (
            "COMPLETED"
        )
