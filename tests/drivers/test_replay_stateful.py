"""Random sequences of client calls, recorded against the emulator on a test-driven clock, replay
exactly: the same results and the same errors, call for call.

The client's driver sleeps by advancing the emulator's manual clock, so `wait` costs no real time
and every run is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule

import jobs_emulator
from jobs_core import Cassette, ClientConfig, JobError, Replayer
from jobs_transports import JobsClientSync, connect_sync
from jobs_transports._cassettes import CassetteFile, RecordingSync
from jobs_transports._http_executors import SyncHttp
from jobs_transports._http_target import HttpTarget, Timeouts
from jobs_transports._sync_driver import SyncDriver
from tests.virtual_time import VirtualTime

TYPES = ("Logic", "Prescriptive", "Predictive")


def payload(reasoner_type: str, duration_s: float) -> dict[str, Any]:
    script = {"duration_s": duration_s, "events": 3}
    if reasoner_type == "Logic":
        return {"database": "db", "query": "q", "headers": {"emulate": script}}
    return {"emulate": script}


@pytest.fixture(scope="module")
def module_manual_emu() -> Iterator[jobs_emulator.Emulator]:
    with jobs_emulator.serve(clock="manual") as emulator:
        yield emulator


def test_random_call_sequences_replay_exactly(
    module_manual_emu: jobs_emulator.Emulator, tmp_path: Path
) -> None:
    engine = module_manual_emu.engine
    virtual_time = VirtualTime(module_manual_emu)
    cassette = tmp_path / "stateful.jsonl"

    class ClientCalls(RuleBasedStateMachine):
        jobs = Bundle("jobs")

        @initialize()
        def open_client(self) -> None:
            config = ClientConfig(http=True)
            http = SyncHttp(HttpTarget.of(module_manual_emu.base_url, None, Timeouts()))
            driver = SyncDriver(http=http, sleep=virtual_time.sleep, clock=virtual_time.now)
            self.client = JobsClientSync(
                RecordingSync(driver, CassetteFile(cassette, config)), config=config
            )
            self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
            self.outcomes: list[Any] = []

        def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            outcome = _outcome(self.client, method, args, kwargs)
            self.outcomes.append(outcome)
            return outcome

        @rule(
            target=jobs,
            reasoner_type=st.sampled_from(TYPES),
            duration=st.sampled_from([0.5, 5, 60]),
        )
        def create(self, reasoner_type: str, duration: float) -> tuple[str, str]:
            ref = self.call("create", reasoner_type, "r", payload(reasoner_type, duration))
            return (reasoner_type, ref["id"])

        @rule(job=jobs)
        def get(self, job: tuple[str, str]) -> None:
            self.call("get", *job, include={"events": True})

        @rule(job=jobs, timeout=st.sampled_from([1.0, 10.0]))
        def wait(self, job: tuple[str, str], timeout: float) -> None:
            self.call("wait", *job, timeout_s=timeout, poll_interval_s=0.5)

        @rule(job=jobs)
        def cancel(self, job: tuple[str, str]) -> None:
            self.call("cancel", *job)

        @rule(job=jobs)
        def events(self, job: tuple[str, str]) -> None:
            self.call("get_events", *job)

        @rule(reasoner_type=st.sampled_from((None, *TYPES)), only_active=st.booleans())
        def list(self, reasoner_type: str | None, only_active: bool) -> None:
            self.call("list", reasoner_type, only_active=only_active, limit=5)

        @rule(seconds=st.sampled_from([0.3, 2.0, 30.0]))
        def time_passes(self, seconds: float) -> None:
            engine.advance(seconds)

        def teardown(self) -> None:
            self.client.close()
            with cassette.open(encoding="utf-8") as lines:
                replayer = Replayer(Cassette.parse(lines))
            with connect_sync(replay=replayer) as replaying:
                replayed = [_outcome(replaying, m, a, k) for m, a, k in self.calls]
            replayer.finish()
            assert replayed == self.outcomes
            engine.reset()

    runner = settings(
        max_examples=30,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(ClientCalls)
    runner.TestCase().runTest()


def _outcome(
    client: JobsClientSync, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        result = getattr(client, method)(*args, **kwargs)
    except JobError as exc:
        return (type(exc).__name__, str(exc))
    if hasattr(result, "to_dict"):
        return result.to_dict()
    return result
