"""Every program in examples/ runs against the emulator and does what it says."""

from __future__ import annotations

import asyncio

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


def test_quickstart_sync(open_emulator: jobs_emulator.Emulator) -> None:
    assert quickstart_sync.main(open_emulator.base_url) == "COMPLETED"


def test_asyncio_client(open_emulator: jobs_emulator.Emulator) -> None:
    assert asyncio.run(asyncio_client.main(open_emulator.base_url)) == ["COMPLETED"] * 3


def test_trio_client(open_emulator: jobs_emulator.Emulator) -> None:
    assert trio.run(trio_client.main, open_emulator.base_url) == "COMPLETED"


def test_sql_backend(open_emulator: jobs_emulator.Emulator) -> None:
    assert sql_backend.main(open_emulator.snowflake, open_emulator.app) == "COMPLETED"


def test_hybrid(open_emulator: jobs_emulator.Emulator) -> None:
    assert (
        hybrid.main(open_emulator.base_url, open_emulator.snowflake, open_emulator.app)
        == "CANCELED"
    )


def test_follow_events_loses_nothing_when_resumed(open_emulator: jobs_emulator.Emulator) -> None:
    assert sorted(follow_events.main(open_emulator.base_url)) == list(range(1, 13))


def test_cancel_wait_leaves_the_job_running_until_cancelled(
    open_emulator: jobs_emulator.Emulator,
) -> None:
    assert trio.run(cancel_wait.main, open_emulator.base_url) == ("RUNNING", "CANCELED")


def test_demo_runs_every_driver_on_every_backend(capsys: pytest.CaptureFixture[str]) -> None:
    rows = demo.main()
    assert {(r.driver, r.backend) for r in rows} == {
        (d, b) for d in ("sync", "asyncio", "trio") for b in demo.BACKEND_NAMES
    }
    assert all((r.events, r.waited, r.cancelled) == (6, "COMPLETED", "CANCELLED") for r in rows)
    assert "9 sessions" in capsys.readouterr().out
