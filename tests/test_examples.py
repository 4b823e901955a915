"""Every program in examples/ runs against the emulator and does what it says."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

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
from tests.virtual_time import VirtualTime

TESTED = tuple(
    module
    for module in list(globals().values())
    if isinstance(module, types.ModuleType) and module.__name__.startswith("examples.")
)
"""The example programs imported above: the tests below run each."""


def test_quickstart_sync(module_real_emu: jobs_emulator.Emulator) -> None:
    assert quickstart_sync.main(module_real_emu.base_url) == "COMPLETED"


def test_asyncio_client(module_real_emu: jobs_emulator.Emulator) -> None:
    assert asyncio.run(asyncio_client.main(module_real_emu.base_url)) == ["COMPLETED"] * 3


def test_trio_client(module_real_emu: jobs_emulator.Emulator) -> None:
    assert trio.run(trio_client.main, module_real_emu.base_url) == "COMPLETED"


def test_sql_backend(module_real_emu: jobs_emulator.Emulator) -> None:
    assert sql_backend.main(module_real_emu.snowflake, module_real_emu.app) == "COMPLETED"


def test_hybrid(module_real_emu: jobs_emulator.Emulator) -> None:
    assert (
        hybrid.main(module_real_emu.base_url, module_real_emu.snowflake, module_real_emu.app)
        == "CANCELED"
    )


def test_follow_events_loses_nothing_when_resumed(module_real_emu: jobs_emulator.Emulator) -> None:
    assert sorted(follow_events.main(module_real_emu.base_url)) == list(range(1, 13))


def test_cancel_wait_leaves_the_job_running_until_cancelled(
    module_real_emu: jobs_emulator.Emulator,
) -> None:
    assert trio.run(cancel_wait.main, module_real_emu.base_url) == ("RUNNING", "CANCELED")


def test_demo_runs_every_driver_on_every_backend(
    fresh_manual_emu: jobs_emulator.Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = VirtualTime(fresh_manual_emu)
    rows = demo.main(fresh_manual_emu, demo.Openers(clock.connect_sync, clock.connect))
    assert {(r.driver, r.backend) for r in rows} == {
        (d, b) for d in ("sync", "asyncio", "trio") for b in demo.BACKEND_NAMES
    }
    assert all((r.events, r.waited, r.cancelled) == (6, "COMPLETED", "CANCELLED") for r in rows)
    assert "9 sessions" in capsys.readouterr().out


def test_every_example_is_run_here_and_runs_alone() -> None:
    # The README says each runs against the emulator in the tests and alone with `python -m`.
    folder = Path(__file__).parent.parent / "examples"
    programs = {path.stem for path in folder.glob("*.py")} - {"test_my_jobs", "__init__"}
    tested = {module.__name__.rpartition(".")[2] for module in TESTED}
    assert programs == tested
    for name in programs:
        assert 'if __name__ == "__main__":' in (folder / f"{name}.py").read_text(encoding="utf-8")
