"""Faults on the wire, on the sync, asyncio and trio drivers: what the retry policy makes of them.

Reads are retried on transport errors, 429 and 5xx until they succeed, or end in `JobServerError`
with the cause chained. A `create` is retried only when that cannot start a second job (429), so
the emulator's store never holds two jobs for one call.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from jobs_core import Job, JobServerError, RetryPolicy, TransportError
from jobs_emulator import Emulator
from jobs_transports import Timeouts
from tests.drivers.conftest import run_scenario
from tests.drivers.reliability_fixtures import (
    FAST_RETRY,
    eventually,
)
from tests.drivers.uniform import Uniform

JOBS = "/v1alpha1/jobs"


def run(driver: str, emu: Emulator, scenario: Any, **options: Any) -> Any:
    """Runs `scenario` on a client of `driver` with fast retries; returns what it returns."""
    return run_scenario(
        driver, {"base_url": emu.base_url, "retry": FAST_RETRY, **options}, scenario
    )


def new_job(emu: Emulator) -> str:
    return emu.engine.create_job("ML", "forecaster", {}, user="emulator_user")


def test_keepalive_closed_by_the_server_is_invisible_to_reads(
    driver: str, fresh_real_emu: Emulator
) -> None:
    """Each connection is closed after one answer, without `Connection: close`, as an idle timeout
    does. The pool sees most of these closes coming; back-to-back reads still race some of them
    and go out on a connection the server has closed (`test_lost_answer_is_retried_for_reads`
    makes that case certain)."""
    job_id = new_job(fresh_real_emu)
    fresh_real_emu.faults.close_idle_after(1)

    async def scenario(client: Uniform) -> list[Job | None]:
        jobs = [await client.get("Predictive", job_id) for _ in range(40)]
        await client.list("Predictive")
        await client.get_events("Predictive", job_id)
        return jobs

    jobs = run(driver, fresh_real_emu, scenario, max_connections=1)
    assert {job.id for job in jobs if job is not None} == {job_id}
    assert None not in jobs


@pytest.mark.parametrize(
    "fault",
    ["drop before the request is read", "drop after the request was handled", "truncated body"],
)
def test_lost_answer_is_retried_for_reads(
    driver: str, fresh_real_emu: Emulator, fault: str
) -> None:
    """The second get finds the first one's kept-alive connection, which the server closes
    (before reading the request: a keep-alive closed as the request arrives), twice over."""
    job_id = new_job(fresh_real_emu)
    target: Any = {"method": "GET", "path": JOBS, "skip": 1, "times": 2}
    if fault == "truncated body":
        rule = fresh_real_emu.faults.truncate(**target)
    else:
        rule = fresh_real_emu.faults.drop(before_request=fault.startswith("drop before"), **target)

    async def scenario(client: Uniform) -> list[Job | None]:
        return [await client.get("Predictive", job_id) for _ in range(2)]

    jobs = run(driver, fresh_real_emu, scenario, max_connections=1)
    assert [job.id if job else None for job in jobs] == [job_id, job_id]
    assert rule.hits == 2


def test_503_burst_then_success(driver: str, fresh_real_emu: Emulator) -> None:
    job_id = new_job(fresh_real_emu)
    rule = fresh_real_emu.faults.throttle(503, retry_after=None, times=3, path=JOBS)

    async def scenario(client: Uniform) -> Any:
        return await client.get("Predictive", job_id)

    job = run(driver, fresh_real_emu, scenario)
    assert job is not None
    assert rule.hits == 3


def test_429_waits_as_long_as_retry_after_says(driver: str, fresh_real_emu: Emulator) -> None:
    job_id = new_job(fresh_real_emu)
    rule = fresh_real_emu.faults.throttle(429, retry_after=0.4, times=1, path=JOBS)

    async def scenario(client: Uniform) -> float:
        started = time.monotonic()
        await client.get("Predictive", job_id)
        return time.monotonic() - started

    elapsed = run(driver, fresh_real_emu, scenario)
    assert rule.hits == 1
    # The policy's own backoff is 10 ms and Retry-After replaces it: the wait is the server's.
    assert 0.4 <= elapsed < 5


def test_slow_read_is_retried_then_fails_with_the_cause(
    driver: str, fresh_real_emu: Emulator
) -> None:
    job_id = new_job(fresh_real_emu)
    rule = fresh_real_emu.faults.delay(0.6, method="GET", path=JOBS, times=None)
    retry = RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05)

    async def scenario(client: Uniform) -> Any:
        return await client.get("Predictive", job_id)

    with pytest.raises(JobServerError, match="ReadTimeout") as raised:
        run(driver, fresh_real_emu, scenario, retry=retry, timeouts=Timeouts(read=0.2))
    assert isinstance(raised.value.__cause__, TransportError)
    assert raised.value.__cause__.timeout
    assert eventually(lambda: rule.hits == 3)


def test_slow_create_fails_without_a_retry(driver: str, fresh_real_emu: Emulator) -> None:
    rule = fresh_real_emu.faults.delay(0.6, method="POST", path=JOBS, times=None)

    async def scenario(client: Uniform) -> Any:
        return await client.create("Predictive", "forecaster", {"n": 1})

    with pytest.raises(JobServerError, match="ReadTimeout") as raised:
        run(driver, fresh_real_emu, scenario, timeouts=Timeouts(read=0.2))
    assert isinstance(raised.value.__cause__, TransportError)
    assert eventually(lambda: rule.hits == 1)
    # The one request that went out is handled once its delay is over.
    assert eventually(lambda: len(fresh_real_emu.engine.list_jobs()) == 1)
    time.sleep(0.7)  # ... and no second one follows it
    assert len(fresh_real_emu.engine.list_jobs()) == 1


@pytest.mark.parametrize(
    ("fault", "jobs", "fails"),
    [
        ("drop after the request was handled", 1, True),
        ("drop before the request is read", 0, True),
        ("503", 0, True),
        ("429", 1, False),
    ],
)
def test_create_never_makes_a_second_job(
    driver: str, fresh_real_emu: Emulator, fault: str, jobs: int, fails: bool
) -> None:
    target: Any = {"method": "POST", "path": JOBS, "times": 1}
    if fault.startswith("drop"):
        rule = fresh_real_emu.faults.drop(before_request=fault.startswith("drop before"), **target)
    else:
        rule = fresh_real_emu.faults.throttle(int(fault), retry_after=0.01, **target)

    async def scenario(client: Uniform) -> str:
        operation = await client.create("Predictive", "forecaster", {"n": 1})
        return str(operation.id)

    if fails:
        with pytest.raises(JobServerError):
            run(driver, fresh_real_emu, scenario)
    else:
        job_id = run(driver, fresh_real_emu, scenario)
        assert [job.id for job in fresh_real_emu.engine.list_jobs()] == [job_id]
    assert rule.hits == 1
    assert len(fresh_real_emu.engine.list_jobs()) == jobs
