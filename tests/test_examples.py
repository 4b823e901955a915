"""Every program in examples/ runs against the emulator and does what it says."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import trio

import jobs_emulator
from examples import (
    asyncio_client,
    cancel_wait,
    demo,
    follow_events,
    hybrid,
    quickstart_sync,
    sql_backend,
    trio_client,
)


@pytest.fixture(scope="module")
def emu() -> Iterator[jobs_emulator.Emulator]:
    with jobs_emulator.serve() as emulator:
        yield emulator


def test_quickstart_sync(emu: jobs_emulator.Emulator) -> None:
    assert quickstart_sync.main(emu.base_url) == "COMPLETED"


def test_asyncio_client(emu: jobs_emulator.Emulator) -> None:
    assert asyncio.run(asyncio_client.main(emu.base_url)) == ["COMPLETED"] * 3


def test_trio_client(emu: jobs_emulator.Emulator) -> None:
    assert trio.run(trio_client.main, emu.base_url) == "COMPLETED"


def test_sql_backend(emu: jobs_emulator.Emulator) -> None:
    assert sql_backend.main(emu.snowflake, emu.app) == "COMPLETED"


def test_hybrid(emu: jobs_emulator.Emulator) -> None:
    assert hybrid.main(emu.base_url, emu.snowflake, emu.app) == "CANCELED"


def test_follow_events_loses_nothing_when_resumed(emu: jobs_emulator.Emulator) -> None:
    assert sorted(follow_events.main(emu.base_url)) == list(range(1, 13))


def test_cancel_wait_leaves_the_job_running_until_cancelled(emu: jobs_emulator.Emulator) -> None:
    assert trio.run(cancel_wait.main, emu.base_url) == ("RUNNING", "CANCELED")


def test_demo_runs_every_driver_on_every_backend(capsys: pytest.CaptureFixture[str]) -> None:
    rows = demo.main()
    assert {(r.driver, r.backend) for r in rows} == {
        (d, b) for d in ("sync", "asyncio", "trio") for b in demo.BACKEND_NAMES
    }
    assert all((r.events, r.waited, r.cancelled) == (6, "COMPLETED", "CANCELLED") for r in rows)
    assert "9 sessions" in capsys.readouterr().out
