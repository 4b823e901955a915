"""`repr` of clients, handles and what they hold says what they are connected to and which job
they hold, and never a credential."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import trio

import jobs_emulator
from jobs_core import JobConfigurationError
from jobs_transports import connect, connect_sync
from tests.drivers.conftest import TOKENS, client_options
from tests.drivers.test_conformance import payload, unique

TOKEN = next(token for token, user in TOKENS.items() if user == "alice")


def everything(client: Any, op: Any) -> list[str]:
    """The reprs of the client and all it holds; a client's gateway is a driver here."""
    held = [client, client.gateway, client.config, op, op._handle]
    if getattr(client.gateway, "http", None) is not None:
        held.append(client.gateway.http.target)
    return [repr(thing) for thing in held]


def test_a_sync_clients_reprs_name_the_backends_host_app_and_job(
    session_real_emu: jobs_emulator.Emulator,
) -> None:
    host = session_real_emu.base_url.removeprefix("http://")
    with connect_sync(**client_options(session_real_emu, "hybrid")) as client:
        op = client.create("Predictive", unique("r"), payload("Predictive", duration_s=0))
        assert repr(client) == (
            f"<JobsClientSync Direct Access + SQL app {session_real_emu.app!r} via SyncDriver("
            f"http=http://{host}, sql=a connection of its own, opened on first use)>"
        )
        name = op.metadata["name"]
        held = f"Predictive job {op.id!r} (reasoner {name!r})"
        assert repr(op) == f"<JobOperationSync {held} via {client!r}>"
        op.wait(timeout_s=30, poll_interval_s=0.05)
        events = op.iter_events(follow=True)
        stream = f"Predictive {op.id!r} stream 'progress', following"
        assert repr(events) == f"<EventIteratorSync {stream} via {client!r}>"
        assert [e["index"] for e in events] == [1, 2, 3]
        assert repr(events).startswith(f"<EventIteratorSync {stream}, ended via ")
        assert f"Predictive job {op.id!r} (reasoner {name!r}), ended COMPLETED" in repr(op)
        texts = everything(client, op)
    assert repr(client).endswith(", closed>")
    assert not any(TOKEN in text for text in texts)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_an_async_clients_reprs_never_show_the_token(
    session_real_emu: jobs_emulator.Emulator, library: str
) -> None:
    async def main() -> list[str]:
        async with connect(**client_options(session_real_emu, "http")) as client:
            op = await client.create("Logic", unique("r"), payload("Logic", duration_s=0))
            assert repr(client).startswith("<JobsClient Direct Access via AsyncDriver(http=http://")
            assert repr(op).startswith(f"<JobOperation Logic transaction {op.id!r} (reasoner ")
            return everything(client, op)

    texts = asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert not any(TOKEN in text for text in texts)


def test_headers_and_providers_stay_out_of_reprs(tmp_path: Path) -> None:
    secret = "s3cr3t-value"
    url = "https://jobs.example.com:8443/base"
    with connect_sync(base_url=url, token=secret, headers={"X-Key": secret}) as client:
        assert "http=https://jobs.example.com:8443/base)" in repr(client)
        assert secret not in repr(client) + repr(client.gateway.http.target)  # type: ignore[attr-defined]
    with connect_sync(
        base_url=lambda: f"https://me:{secret}@jobs.example.com", token=secret
    ) as client:
        assert "http=endpoint provider (not asked yet)" in repr(client)
    connection = sqlite3.connect(":memory:")
    with connect_sync(sql_connection=connection, app="APP") as client:
        assert (
            repr(client)
            == "<JobsClientSync SQL app 'APP' via SyncDriver(sql=the caller's Connection)>"
        )
    connection.close()
    cassette = tmp_path / "calls.jsonl"
    with connect_sync(base_url=url, token=secret, record=cassette) as client:
        assert repr(client).startswith(
            f"<JobsClientSync Direct Access via RecordingSync(to {str(cassette)!r} over SyncDriver("
        )
        assert secret not in repr(client)


@pytest.mark.parametrize(
    "url",
    ["https://me:s3cr3t-value@jobs.example.com", "https://s3cr3t-value@jobs.example.com:8443/b"],
)
def test_a_base_url_holding_user_information_is_refused_without_showing_it(url: str) -> None:
    with pytest.raises(JobConfigurationError, match="user name or password") as refused:
        connect_sync(base_url=url, token="t0ken-value")
    assert "s3cr3t-value" not in str(refused.value)
