"""The drivers' `sleep` and `clock` hooks, which put driver tests on the emulator's manual clock.

On each driver, `Now` reads the hook's clock, `Sleep` goes to the hook's sleep, and a request's
deadline is measured on the hook's clock, not on the driver's own.
"""

from __future__ import annotations

import inspect
from typing import Any

import jobs_emulator
from jobs_core import HttpRequest, Now, Protocol, TransportError
from tests.drivers.conftest import client_options, run_scenario
from tests.drivers.uniform import Uniform
from tests.virtual_time import VirtualTime


def test_a_wait_of_ten_minutes_runs_on_the_emulator_clock(
    driver: str, session_manual_emu: jobs_emulator.Emulator, virtual_time: VirtualTime
) -> None:
    job_id = session_manual_emu.engine.create_job(
        "ML", "forecaster", {"emulate": {"duration_s": 600}}, user="alice"
    )
    started = virtual_time.now()

    async def scenario(client: Uniform) -> Any:
        return await client.wait("Predictive", job_id, timeout_s=900, poll_interval_s=10)

    options = client_options(session_manual_emu, "http")
    job = run_scenario(driver, options, scenario, virtual_time)
    assert job.state == "COMPLETED"
    assert 600 <= virtual_time.now() - started < 900


def request_behind_the_clock() -> Protocol[tuple[float, TransportError | None]]:
    """Sends one request whose deadline is a second before `Now`; returns `Now` and the failure."""
    now = yield Now()
    try:
        yield HttpRequest("GET", "/v1alpha1/jobs/ML/j1", deadline=now - 1)
    except TransportError as exc:
        return now, exc
    return now, None


def test_a_deadline_is_measured_on_the_emulator_clock(
    driver: str, session_manual_emu: jobs_emulator.Emulator, virtual_time: VirtualTime
) -> None:
    """The deadline is decades ahead on the driver's own monotonic clock, and past on the hook's."""

    async def scenario(client: Uniform) -> Any:
        outcome = client.gateway.run(request_behind_the_clock())
        return await outcome if inspect.isawaitable(outcome) else outcome

    options = client_options(session_manual_emu, "http")
    now, failure = run_scenario(driver, options, scenario, virtual_time)
    assert now == virtual_time.now()
    assert isinstance(failure, TransportError)
    assert failure.timeout
    assert not failure.request_sent
