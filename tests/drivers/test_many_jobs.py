"""`as_completed` and `wait_all` on {sync, asyncio, trio} × {HTTP, SQL}, against an emulator whose
clock only moves when the test advances it: a job ends exactly when the test says so."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

import jobs_emulator
from jobs_core import JobInvalidRequestError, JobTimeoutError
from jobs_transports import connect
from jobs_transports._async_driver import AsyncDriver
from tests.drivers.conftest import TOKENS, client_options, run_scenario
from tests.drivers.reliability_fixtures import (
    MAX_STEPS,
    Mode,
    assert_no_stray_tasks,
    cancel_at_step,
    pool_leftovers,
    run_async,
)
from tests.drivers.uniform import Uniform

FAST = {"timeout_s": 30, "poll_interval_s": 0.01}


@pytest.fixture(scope="module")
def module_manual_emu() -> Iterator[jobs_emulator.Emulator]:
    """This module's emulator on a manual clock that only the tests move (clients sleep in real
    time, so a job ends when a test says), with the `TOKENS` users; its faults count requests."""
    with jobs_emulator.serve(tokens=TOKENS, clock="manual") as emulator:
        yield emulator


@pytest.fixture(params=["http", "sql"])
def options(
    request: pytest.FixtureRequest, module_manual_emu: jobs_emulator.Emulator
) -> dict[str, Any]:
    return client_options(module_manual_emu, str(request.param))


def payload(reasoner_type: str, duration_s: float) -> dict[str, Any]:
    script = {"duration_s": duration_s}
    if reasoner_type == "Logic":
        return {"database": "db1", "query": "def output = 1", "headers": {"emulate": script}}
    return {"emulate": script}


async def start(client: Uniform, durations: dict[str, float]) -> list[Any]:
    """Create one job per (reasoner type, duration); return their handles."""
    return [
        await client.create(kind.split("#")[0], "many", payload(kind.split("#")[0], duration))
        for kind, duration in durations.items()
    ]


DURATIONS = {"Predictive": 10.0, "Logic": 20.0, "Prescriptive": 30.0, "Predictive#2": 40.0}


def test_as_completed_hands_out_jobs_as_they_end(
    driver: str, options: dict[str, Any], module_manual_emu: jobs_emulator.Emulator
) -> None:
    async def scenario(client: Uniform) -> None:
        handles = await start(client, DURATIONS)
        ops = [(handle.metadata["reasoner_type"], handle.id) for handle in handles]
        completed = client.completed(list(reversed(ops)), **FAST)
        module_manual_emu.engine.advance(25)
        first = [await anext(completed), await anext(completed)]
        assert [job.id for job in first] == [handles[0].id, handles[1].id]
        assert [job.reasoner_type for job in first] == ["Predictive", "Logic"]
        module_manual_emu.engine.advance(100)
        rest = [await anext(completed), await anext(completed)]
        assert [job.id for job in rest] == [handles[2].id, handles[3].id]
        assert {job.state for job in first + rest} == {"COMPLETED"}
        assert await anext(completed, None) is None

    run_scenario(driver, options, scenario)


def test_wait_all_returns_the_final_jobs_in_the_order_given(
    driver: str, options: dict[str, Any], module_manual_emu: jobs_emulator.Emulator
) -> None:
    async def scenario(client: Uniform) -> None:
        handles = await start(client, DURATIONS)
        module_manual_emu.engine.advance(45)
        ops: list[Any] = [handles[3].target, ("Logic", handles[1].id), *(h.target for h in handles)]
        jobs = await client.wait_all(ops, include={"details": True}, **FAST)
        assert [job.id for job in jobs] == [handles[n].id for n in (3, 1, 0, 1, 2, 3)]
        assert all(job.state == "COMPLETED" and job.details is not None for job in jobs)
        # A handle keeps the final job it was waited for with.
        assert await handles[2].result() == jobs[4]

    run_scenario(driver, options, scenario)


def test_the_deadline_names_the_jobs_still_running(
    driver: str, options: dict[str, Any], module_manual_emu: jobs_emulator.Emulator
) -> None:
    async def scenario(client: Uniform) -> None:
        handles = await start(client, {"Prescriptive": 1.0, "Logic": 1_000.0})
        module_manual_emu.engine.advance(2)
        with pytest.raises(JobTimeoutError) as raised:
            await client.wait_all([h.target for h in handles], timeout_s=0.3, poll_interval_s=0.05)
        assert "1 of 2 jobs did not finish within 0.3s" in str(raised.value)
        (last_seen,) = raised.value.pending.values()
        assert last_seen is not None
        assert (last_seen.id, last_seen.state) == (handles[1].id, "RUNNING")
        await client.cancel("Logic", handles[1].id)

    run_scenario(driver, options, scenario)


UNREACHABLE = {"base_url": "http://127.0.0.1:9", "token": "tok-alice"}
BAD_OPS = ["Logic", [("Logic",)], [("Nope", "x")], [3], [("Logic", "")]]


@pytest.mark.parametrize("ops", BAD_OPS)
def test_bad_operations_fail_before_any_request(driver: str, ops: Any) -> None:
    """The client points at a closed port: any request would fail otherwise."""

    async def scenario(client: Uniform) -> None:
        with pytest.raises(JobInvalidRequestError):
            client.target.as_completed(ops)
        with pytest.raises(JobInvalidRequestError):
            await client.wait_all(ops)

    run_scenario(driver, UNREACHABLE, scenario)


def test_jobs_that_ended_cost_one_list_and_one_get_each(
    driver: str, module_manual_emu: jobs_emulator.Emulator
) -> None:
    gets = module_manual_emu.faults.delay(0, method="GET", path="/v1alpha1/jobs/", times=None)
    lists = module_manual_emu.faults.delay(0, method="GET", path="/v1alpha1/jobs", times=None)

    async def scenario(client: Uniform) -> None:
        handles = await start(client, {f"Predictive#{n}": 1.0 + n for n in range(6)})
        module_manual_emu.engine.advance(10)
        before = (lists.hits, gets.hits)
        jobs = await client.wait_all([h.target for h in handles], **FAST)
        assert [job.id for job in jobs] == [h.id for h in handles]
        assert (lists.hits - before[0], gets.hits - before[1]) == (1, 6)

    try:
        run_scenario(driver, client_options(module_manual_emu, "http"), scenario)
    finally:
        module_manual_emu.faults.clear()


@pytest.mark.parametrize(("runtime", "mode"), [("asyncio", "blocked"), ("trio", "runnable")])
def test_as_completed_resumes_after_steps_cancelled_at_every_point(
    fresh_real_emu: jobs_emulator.Emulator, runtime: str, mode: Mode
) -> None:
    """Each step of one iterator is cancelled at its 1st, 2nd, ... suspension, in turn: the
    pool is left with nothing in use each time, and the same iterator goes on to hand out every
    job exactly once (a cancelled step loses no job)."""
    ids = [
        fresh_real_emu.engine.create_job(
            "ML", "w", {"emulate": {"duration_s": 0.05 * n}}, user="emulator_user"
        )
        for n in range(1, 5)
    ]

    async def main() -> tuple[list[str], int]:
        client = connect(base_url=fresh_real_emu.base_url, max_connections=1)
        driver = client.gateway
        assert isinstance(driver, AsyncDriver)
        assert driver.http is not None
        try:
            completed = client.as_completed(
                [("Predictive", job_id) for job_id in ids], timeout_s=30, poll_interval_s=0.02
            )
            seen: list[str] = []
            cancelled = 0
            for n in itertools.cycle(range(1, 8)):
                assert cancelled < MAX_STEPS, "the iterator never ended"
                outcome = await cancel_at_step(runtime, [completed.__anext__], n, mode=mode)
                assert pool_leftovers(driver.http.pool) == [], f"after a cancel at step {n}"
                (finished,) = outcome.outcomes
                if finished.cancelled:
                    cancelled += 1
                elif isinstance(finished.error, StopAsyncIteration):
                    return seen, cancelled
                else:
                    seen.append(finished.unwrap().id)
                assert_no_stray_tasks(runtime)
            raise AssertionError("unreachable")
        finally:
            await client.aclose()

    seen, cancelled = run_async(runtime, main)
    assert sorted(seen) == sorted(ids)
    assert cancelled >= 5
