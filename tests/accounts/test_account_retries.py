"""A wait rides out an account that fails for a while, on the sync, asyncio and trio drivers: the
token exchange answering 503, the endpoint discovery's session lost. Only the wait's deadline
ends it, naming the failure; a refused key still ends it at once.

The retry policy backs off for hundredths of a second, so that more failures than its attempts
pass quickly; timeouts here are bounds with a wide margin, not measurements.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import trio

import jobs_emulator
from jobs_core import (
    Job,
    JobConfigurationError,
    JobError,
    JobServerError,
    JobTimeoutError,
    RetryPolicy,
)
from jobs_transports import connect, connect_sync
from tests.accounts.accounts_setup import APP
from tests.accounts.conftest import KeyFiles

FAST = RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)
FAILURES = FAST.max_attempts + 3
"""More failures in a row than the retry policy's attempts."""
JOB_S = 0.3
SHORT_S = 1.0
"""The timeout of a wait that is to end at its deadline."""
MARGIN_S = 1.5
LIBRARIES = ["sync", "asyncio", "trio"]
UNAVAILABLE = "status 503: service unavailable"


@pytest.fixture(scope="module")
def emu(keys: KeyFiles) -> Iterator[jobs_emulator.Emulator]:
    users = {"ALICE": {"public_key": keys.public_pem}}
    with jobs_emulator.serve(app=APP, users=users) as emulator:
        yield emulator


Outcome = tuple[Job | JobError, float]


def timed(wait: Callable[[], Job]) -> Outcome:
    started = time.monotonic()
    try:
        job: Job | JobError = wait()
    except JobError as exc:
        job = exc
    return job, time.monotonic() - started


async def timed_async(wait: Callable[[], Awaitable[Job]]) -> Outcome:
    started = time.monotonic()
    try:
        job: Job | JobError = await wait()
    except JobError as exc:
        job = exc
    return job, time.monotonic() - started


def create_then_wait(
    library: str, between: Callable[[], object], *, fresh: bool, timeout_s: float = 30.0
) -> Outcome:
    """Create a short job, call `between`, then wait for the job with a new client (`fresh`: it
    finds the endpoint and exchanges a token first) or with the same one; return the job or the
    error the wait ended with, and how long it took."""
    payload = {"emulate": {"duration_s": JOB_S}}
    if library == "sync":
        with connect_sync(retry=FAST) as creator:
            job_id = creator.create("Predictive", "f", payload).id
            between()
            if fresh:
                with connect_sync(retry=FAST) as waiter:
                    return timed(lambda: waiter.wait("Predictive", job_id, timeout_s=timeout_s))
            return timed(lambda: creator.wait("Predictive", job_id, timeout_s=timeout_s))

    async def main() -> Outcome:
        async with connect(retry=FAST) as creator:
            job_id = (await creator.create("Predictive", "f", payload)).id
            between()
            if fresh:
                async with connect(retry=FAST) as waiter:
                    return await timed_async(
                        lambda: waiter.wait("Predictive", job_id, timeout_s=timeout_s)
                    )
            return await timed_async(
                lambda: creator.wait("Predictive", job_id, timeout_s=timeout_s)
            )

    return asyncio.run(main()) if library == "asyncio" else trio.run(main)


def completed(outcome: Outcome) -> None:
    job, _ = outcome
    assert isinstance(job, Job), job
    assert job.state == "COMPLETED"


CUT_SHORT = ("deadline passed before", "Timeout")
"""What the driver says of an attempt the deadline cut short (SQL; HTTP, by exception name)."""


def timed_out(outcome: Outcome, failure: str) -> None:
    """The wait ended at its deadline, not before, and its error names `failure`, or, when the
    last attempt started just before the deadline, the deadline cutting it short (which failure
    is named is shown on simulated time in test_persistent_account_protocols.py)."""
    error, elapsed = outcome
    assert isinstance(error, JobTimeoutError), error
    assert "the deadline passed while retrying" in str(error)
    assert any(named in str(error) for named in (failure, *CUT_SHORT)), error
    assert SHORT_S * 0.9 <= elapsed < SHORT_S + MARGIN_S


# --- the token exchange ------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("need", ["first-token", "refused-token"])
def test_a_wait_rides_out_a_token_exchange_that_fails_for_a_while(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str, need: str
) -> None:
    """`first-token`: a new client's first poll needs a token (the driver renews it before the
    request); `refused-token`: the service refuses the token (401), the poll asks for a new one
    (`RenewToken`)."""
    rules: list[Any] = []
    exchanges: list[int] = []

    def fail_for_a_while() -> None:
        exchanges.append(emu.token_exchanges)
        rules.append(emu.faults.throttle(503, retry_after=None, path="/oauth", times=FAILURES))
        if need == "refused-token":
            expired = {"message": "the token has expired"}
            emu.faults.respond(401, expired, method="GET", path="/v1alpha1/jobs", times=1)

    completed(create_then_wait(library, fail_for_a_while, fresh=need == "first-token"))
    assert rules[0].hits == FAILURES
    assert emu.token_exchanges == exchanges[0] + 1


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_wait_whose_token_exchange_never_recovers_ends_at_its_deadline_naming_it(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    rules: list[Any] = []

    def fail_for_good() -> None:
        rules.append(emu.faults.throttle(503, retry_after=None, path="/oauth", times=None))

    timed_out(create_then_wait(library, fail_for_good, fresh=True, timeout_s=SHORT_S), UNAVAILABLE)
    assert rules[0].hits > FAST.max_attempts


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_ends_the_wait_at_once(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str, status: int
) -> None:
    rules: list[Any] = []

    def refuse() -> None:
        refusal = {"error": "invalid_grant", "message": "JWT token is invalid"}
        rules.append(emu.faults.respond(status, refusal, path="/oauth", times=None))

    error, elapsed = create_then_wait(library, refuse, fresh=True)
    assert isinstance(error, JobConfigurationError), error
    assert f"status={status}" in str(error)
    assert rules[0].hits == 1
    assert elapsed < MARGIN_S


# --- the endpoint discovery --------------------------------------------------------------------


@pytest.fixture
def no_endpoint_cache(key_pair_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new client discovers the endpoint."""
    monkeypatch.setenv("JOBS_ENDPOINT_CACHE", "0")


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.usefixtures("no_endpoint_cache")
def test_a_wait_rides_out_lost_sessions_while_finding_the_endpoint(
    emu: jobs_emulator.Emulator, library: str
) -> None:
    rules: list[Any] = []
    calls: list[int] = []

    def lose_sessions() -> None:
        calls.append(emu.service_endpoint_calls)
        rules.append(emu.faults.lost_session(times=FAILURES))

    completed(create_then_wait(library, lose_sessions, fresh=True))
    assert rules[0].hits == FAILURES
    assert emu.service_endpoint_calls == calls[0] + 1


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.usefixtures("no_endpoint_cache")
def test_a_wait_whose_discovery_never_recovers_ends_at_its_deadline_naming_it(
    emu: jobs_emulator.Emulator, library: str
) -> None:
    rules: list[Any] = []

    def lose_sessions_for_good() -> None:
        rules.append(emu.faults.lost_session(times=None))

    outcome = create_then_wait(library, lose_sessions_for_good, fresh=True, timeout_s=SHORT_S)
    timed_out(outcome, "Session no longer exists")
    assert rules[0].hits > FAST.max_attempts


# --- other calls meanwhile ---------------------------------------------------------------------


def got(job: Job | None) -> Job:
    assert job is not None
    return job


async def got_async(job: Awaitable[Job | None]) -> Job:
    return got(await job)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_wait_riding_out_the_exchange_does_not_hold_up_a_get_on_the_same_client(
    key_pair_home: Path, emu: jobs_emulator.Emulator, library: str
) -> None:
    """The wait retries the exchange until its distant deadline; between its attempts it lets go
    of the client's account, so a `get` meanwhile tries the exchange on its own terms (the retry
    policy's attempts) and fails at once, instead of waiting as long as the wait may."""
    with connect_sync(retry=FAST) as creator:
        job_id = creator.create("Predictive", "f", {"emulate": {"duration_s": 60}}).id
    rule = emu.faults.throttle(503, retry_after=None, path="/oauth", times=None)
    wait_s = 10.0
    if library == "sync":
        with connect_sync(retry=FAST) as client:
            waiting = threading.Thread(
                target=lambda: timed(lambda: client.wait("Predictive", job_id, timeout_s=wait_s))
            )
            waiting.start()
            time.sleep(0.3)
            error, elapsed = timed(lambda: got(client.get("Predictive", job_id)))
        waiting.join(MARGIN_S)  # closing the client ended the wait
        assert not waiting.is_alive()
    else:

        async def main() -> Outcome:
            outcomes: list[Outcome] = []
            async with connect(retry=FAST) as client, anyio.create_task_group() as tasks:
                tasks.start_soon(
                    functools.partial(client.wait, "Predictive", job_id, timeout_s=wait_s)
                )
                await anyio.sleep(0.3)
                outcomes.append(
                    await timed_async(lambda: got_async(client.get("Predictive", job_id)))
                )
                tasks.cancel_scope.cancel()
            return outcomes[0]

        error, elapsed = asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert isinstance(error, JobServerError), error
    assert "status=503" in str(error)
    assert elapsed < MARGIN_S
    assert rule.hits > FAST.max_attempts
