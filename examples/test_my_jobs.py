"""How to test your own job code with no server and no waiting: the `jobs_cassette` fixture.

The first run (or ``pytest --jobs-record-mode=all``) talks to a live backend and records every
call in ``cassettes/test_my_jobs/<test>.jsonl``; commit that file. Every later run replays it: no
server, no credentials, and the waits take no time. Here the live backend is the emulator,
started only when a recording is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trio

import jobs_emulator
from jobs_core import Job, JobTimeoutError
from jobs_transports import JobsClient, JobsClientSync
from jobs_transports.pytest_plugin import JobsCassette

# --- the code under test: what a user of the library writes ------------------------------------


def nightly_forecast(client: JobsClientSync, days: int) -> Job:
    """Start a forecast and wait for it (a slow job: several seconds)."""
    op = client.create("Predictive", "forecaster", {"days": days, "emulate": {"duration_s": 3}})
    return op.wait(timeout_s=60, poll_interval_s=0.5)


async def rebuild_schedule(client: JobsClient) -> list[str]:
    """Start a schedule rebuild, give up waiting after a while, and report what is running."""
    op = await client.create("Prescriptive", "scheduler", {"emulate": {"duration_s": 30}})
    try:
        await op.wait(timeout_s=1.5, poll_interval_s=0.5)
    except JobTimeoutError as timeout:
        # A timeout is not a failure: the job runs on (as last seen in `timeout.job`). Stop it.
        print(f"gave up waiting for {op.id}: {timeout.job.state if timeout.job else 'unseen'}")
        await client.cancel("Prescriptive", op.id)
    return [job.state for job in await client.list("Prescriptive", name="scheduler")]


# --- the tests ---------------------------------------------------------------------------------


@pytest.fixture
def backend(jobs_cassette: JobsCassette) -> Iterator[dict[str, Any]]:
    """Arguments for the live backend, which is only needed while recording."""
    if not jobs_cassette.recording:
        yield {}
        return
    with jobs_emulator.serve() as emu:
        yield {"base_url": emu.base_url}


def test_the_forecast_completes(jobs_cassette: JobsCassette, backend: dict[str, Any]) -> None:
    with jobs_cassette.connect_sync(**backend) as client:
        job = nightly_forecast(client, days=7)
    assert job.state == "COMPLETED"
    assert job.duration == 3000


def test_a_schedule_that_takes_too_long_is_cancelled(
    jobs_cassette: JobsCassette, backend: dict[str, Any]
) -> None:
    async def main() -> list[str]:
        async with jobs_cassette.connect(**backend) as client:
            return await rebuild_schedule(client)

    assert trio.run(main) == ["CANCELED"]
