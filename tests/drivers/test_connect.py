"""`connect()` / `connect_sync()` and the clients' construction: configuration errors come early."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import jobs_emulator
from jobs_core import ClientConfig, JobConfigurationError, JobServerError, RetryPolicy
from jobs_transports import (
    AsyncDriver,
    JobsClient,
    JobsClientSync,
    SyncDriver,
    connect,
    connect_sync,
)
from jobs_transports._http_executors import SyncHttp
from jobs_transports._http_target import HttpTarget, Timeouts


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"base_url": "ftp://example"},
        {"base_url": "localhost:8080"},
        {"snowflake": {"user": "u"}},  # no app
        {"sql_connection": object(), "snowflake": {}, "app": "A"},
        {"snowflake": {"paramstyle": "pyformat"}, "app": "A"},
        {"base_url": "http://x", "max_connections": 0},
    ],
)
def test_bad_configurations_fail_at_connect(options: dict[str, Any]) -> None:
    with pytest.raises(JobConfigurationError):
        connect_sync(**options)
    with pytest.raises(JobConfigurationError):
        connect(**options)


def test_a_connection_with_another_paramstyle_is_refused() -> None:
    class PyformatConnection:
        _paramstyle = "pyformat"

    with pytest.raises(JobConfigurationError, match="qmark"):
        connect_sync(sql_connection=PyformatConnection(), app="A")


def test_a_non_db_api_failure_of_the_sql_driver_surfaces_as_a_job_error() -> None:
    # sqlite3 binds ? too, but knows none of the API's procedures: its errors must come back
    # as JobErrors, and so must a TypeError from the driver itself.
    connection = sqlite3.connect(":memory:")
    with connect_sync(sql_connection=connection, app="A") as client:
        with pytest.raises(JobServerError, match=r"OperationalError|syntax error"):
            client.get("Predictive", "x")

        class Broken:
            def cursor(self) -> Any:
                raise TypeError("not all arguments converted during string formatting")

        client._driver.sql._connection = Broken()  # type: ignore[attr-defined]
        with pytest.raises(JobServerError, match="TypeError: not all arguments converted"):
            client.get("Predictive", "x")
    connection.close()  # the caller's connection stays the caller's


def test_an_endpoint_provider_that_fails_is_a_configuration_error() -> None:
    def provider() -> str:
        raise RuntimeError("vault unreachable")

    with (
        connect_sync(base_url=provider) as client,
        pytest.raises(JobConfigurationError, match="vault"),
    ):
        client.get("Logic", "t1")


def test_an_async_client_belongs_to_one_event_loop() -> None:
    # A port nobody listens on: the first call fails to connect, so no pooled connection is
    # left in the first loop, but the client is bound to it all the same.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(base_url=f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=1))

    async def get() -> None:
        await client.get("Logic", "t1")

    with pytest.raises(JobServerError, match="ConnectError"):
        asyncio.run(get())
    with pytest.raises(JobConfigurationError, match="one client per event loop"):
        asyncio.run(get())


def test_clients_can_be_built_on_a_driver_alone(open_emulator: jobs_emulator.Emulator) -> None:
    driver = SyncDriver(http=SyncHttp(HttpTarget.of(open_emulator.base_url, None, Timeouts())))
    with JobsClientSync(driver) as client:
        assert client.config == ClientConfig(http=True)
        assert client.get("Logic", "no-such-id") is None
    config = ClientConfig(http=True, seed=3)
    assert JobsClient(AsyncDriver(), config).config is config  # the seed's positional form
    with pytest.raises(JobConfigurationError):
        JobsClientSync(SyncDriver())


def test_each_client_draws_its_own_jitter_seed_and_a_cassette_keeps_it(
    open_emulator: jobs_emulator.Emulator, tmp_path: Path
) -> None:
    seeds = set()
    for _ in range(5):
        with connect_sync(base_url=open_emulator.base_url) as client:
            seeds.add(client.config.seed)
    assert len(seeds) > 1
    with connect_sync(base_url=open_emulator.base_url, record=tmp_path / "c.jsonl") as client:
        seed = client.config.seed
    assert connect_sync(replay=tmp_path / "c.jsonl").config.seed == seed
