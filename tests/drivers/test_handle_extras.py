"""Operation handles on every driver: cancel(), events(), iter_events(), raise_on_failure, and
cancel_on_error() blocks that end in an error, a timeout or a cancelled task."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
import trio

import jobs_emulator
from jobs_core import JobEvents, JobFailedError
from jobs_transports import JobOperation, JobOperationSync, JobsClient, connect, connect_sync
from tests.drivers.conftest import Runner, client_options
from tests.drivers.test_conformance import FAST, payload, unique
from tests.drivers.uniform import Uniform

LONG = {"duration_s": 30}
ACTIVE = ("CREATED", "PENDING", "RUNNING")


async def settled(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def test_a_handle_reads_its_events_cancels_and_raises_on_failure_when_asked(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        op = await client.create("Predictive", unique("h"), payload("Predictive", events=4))
        page = await settled(op.target.events(stream_name="progress"))
        assert isinstance(page, JobEvents)
        seen = [e["index"] async for e in op.events(follow=True, poll_interval_s=0.05)]
        assert seen == [1, 2, 3, 4]
        assert (await op.wait(timeout_s=30, poll_interval_s=0.05)).state == "COMPLETED"
        assert (await op.result(raise_on_failure=True)).state == "COMPLETED"

        failing = await client.create(
            "Prescriptive",
            unique("f"),
            payload("Prescriptive", outcome="FAILED", abort_reason="infeasible"),
        )
        assert (await failing.wait(**FAST)).state == "FAILED"  # the seeds' behaviour by default
        with pytest.raises(JobFailedError, match="infeasible") as raised:
            await failing.result(raise_on_failure=True)
        assert (raised.value.job.state, raised.value.job_id) == ("FAILED", failing.id)

        long = await client.create("Logic", unique("c"), payload("Logic", **LONG))
        assert await long.cancel() is None
        with pytest.raises(JobFailedError, match="CANCELED"):
            await long.wait(**FAST, raise_on_failure=True)

    run(scenario)


def fail_in(op: JobOperationSync, wait_first: bool = False) -> None:
    with op.cancel_on_error():
        if wait_first:
            op.wait(timeout_s=30, poll_interval_s=0.05)
        raise RuntimeError("boom")


async def fail_in_async(op: JobOperation, wait_first: bool = False) -> None:
    async with op.cancel_on_error():
        if wait_first:
            await op.wait(timeout_s=30, poll_interval_s=0.05)
        raise RuntimeError("boom")


def sync_blocks(client: Any) -> list[str]:
    """Run the three blocks on a sync client; return the states of their jobs after."""
    failed = client.create("Prescriptive", unique("e"), payload("Prescriptive", **LONG))
    with pytest.raises(RuntimeError, match="boom"):
        fail_in(failed)
    fine = client.create("Prescriptive", unique("ok"), payload("Prescriptive", **LONG))
    with fine.cancel_on_error() as same:
        assert same is fine
    ended = client.create("Prescriptive", unique("d"), payload("Prescriptive", duration_s=0))
    with pytest.raises(RuntimeError, match="boom"):
        fail_in(ended, wait_first=True)
    return [client.get("Prescriptive", op.id).state for op in (failed, fine, ended)]


async def async_blocks(client: JobsClient, timeout: Any) -> list[str]:
    """Run the blocks on an async client, `timeout(seconds, block)` cutting one short."""
    failed = await client.create("Prescriptive", unique("e"), payload("Prescriptive", **LONG))
    with pytest.raises(RuntimeError, match="boom"):
        await fail_in_async(failed)
    fine = await client.create("Prescriptive", unique("ok"), payload("Prescriptive", **LONG))
    async with fine.cancel_on_error() as same:
        assert same is fine
    ended = await client.create("Prescriptive", unique("d"), payload("Prescriptive", duration_s=0))
    with pytest.raises(RuntimeError, match="boom"):
        await fail_in_async(ended, wait_first=True)
    timed = await client.create("Prescriptive", unique("t"), payload("Prescriptive", **LONG))

    async def block(op: JobOperation) -> None:
        async with op.cancel_on_error():
            await op.wait(timeout_s=30, poll_interval_s=0.05)

    await timeout(0.3, block(timed))
    ops = (failed, fine, ended, timed)
    return [(await client.get("Prescriptive", op.id)).state for op in ops]  # type: ignore[union-attr]


async def asyncio_timeout(seconds: float, block: Any) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(block, seconds)  # cancels the task running the block


async def trio_timeout(seconds: float, block: Any) -> None:
    with trio.move_on_after(seconds) as scope:
        await block
    assert scope.cancelled_caught


def test_cancel_on_error_cancels_the_job_when_its_block_raises(
    session_real_emu: jobs_emulator.Emulator, driver: str
) -> None:
    options = client_options(session_real_emu, "hybrid")
    if driver == "sync":
        with connect_sync(**options) as client:
            states = sync_blocks(client)
        assert states[1] in ACTIVE
        assert states[::2] == ["CANCELED", "COMPLETED"]
        return

    async def main() -> list[str]:
        async with connect(**options) as client:
            return await async_blocks(
                client, asyncio_timeout if driver == "asyncio" else trio_timeout
            )

    states = asyncio.run(main()) if driver == "asyncio" else trio.run(main)
    assert states[1] in ACTIVE
    assert [states[0], *states[2:]] == ["CANCELED", "COMPLETED", "CANCELED"]


def test_a_cancel_that_fails_never_replaces_the_blocks_error(
    session_real_emu: jobs_emulator.Emulator,
) -> None:
    options = client_options(session_real_emu, "http")
    client = connect_sync(**options)
    op: JobOperationSync = client.create("Logic", unique("x"), payload("Logic", **LONG))

    def block() -> None:
        with op.cancel_on_error():
            client.close()  # so the cancel fails with JobClientClosedError
            raise RuntimeError("the block's own")

    with pytest.raises(RuntimeError, match="the block's own"):
        block()
    with connect_sync(**options) as other:
        job = other.get("Logic", op.id)
        assert job is not None
        assert job.state in ACTIVE
        other.cancel("Logic", op.id)
