"""The default polling policy of `wait`, on simulated time over job durations from 10 s to 1 h.

Each wait runs the real `wait` protocol against a job that ends after a given duration; the clock
moves only when the protocol sleeps, so each figure is exact and repeatable.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest

import jobs_core as core
from jobs_core import ClientConfig, HttpRequest, Now, PollPolicy, Sleep
from tests.core.replies import ok, txn_json

DEFAULT = ClientConfig(http=True)
FIXED = ClientConfig(http=True, polling=PollPolicy(factor=1.0, fraction=0.0))
FIRST_INTERVAL_S = 0.5
"""The seeds' default `poll_interval_s`."""
DURATIONS = sorted(
    {10 * 360 ** (i / 300) for i in range(301)} | {30.0, 30.01, 31.0, 59.9, 60.0, 3600.0}
)
"""From 10 s to 1 h, log-spaced, plus the edges of the request-count goals."""


class FakeClockJob:
    """Answers a protocol's effects on a fake clock; the job is COMPLETED from `ends_at` on."""

    def __init__(self, ends_at: float) -> None:
        self.ends_at = ends_at
        self.clock = 0.0
        self.polls: list[float] = []
        self.sleeps: list[float] = []

    def wait(self, config: ClientConfig) -> core.Job:
        protocol = core.wait(
            config, "Logic", "t1", timeout_s=10_000, poll_interval_s=FIRST_INTERVAL_S
        )
        stepper = core.Stepper(protocol)
        effect = stepper.start()
        while effect is not None:
            assert len(self.polls) < 20_000, "the wait never ended"
            effect = stepper.send(self.answer(effect))
        job: core.Job = stepper.result
        return job

    def answer(self, effect: Any) -> Any:
        if isinstance(effect, Now):
            return self.clock
        if isinstance(effect, Sleep):
            self.sleeps.append(effect.seconds)
            self.clock += effect.seconds
            return None
        assert isinstance(effect, HttpRequest)
        self.polls.append(self.clock)
        return ok(txn_json(state="COMPLETED" if self.clock >= self.ends_at else "RUNNING"))

    @property
    def delay(self) -> float:
        """How long after the job ended the wait saw it."""
        return self.polls[-1] - self.ends_at


def waited(duration: float, config: ClientConfig = DEFAULT) -> FakeClockJob:
    job = FakeClockJob(duration)
    assert job.wait(config).state == "COMPLETED"
    return job


def fixed_polls(duration: float) -> int:
    """Requests of polling every 0.5 s: at 0, 0.5, 1, ... up to the first time >= `duration`."""
    return math.ceil(duration / FIRST_INTERVAL_S) + 1


@pytest.mark.parametrize("duration", [30.0, 31.7, 3600.0])
def test_fixed_polls_counts_what_fixed_polling_does(duration: float) -> None:
    assert len(waited(duration, FIXED).polls) == fixed_polls(duration)


def test_the_first_interval_is_poll_interval_s_and_intervals_never_shrink() -> None:
    job = waited(100.0)
    assert job.sleeps[0] == FIRST_INTERVAL_S
    assert job.sleeps == sorted(job.sleeps)
    assert max(job.sleeps) <= PollPolicy().max_interval_s


def test_detection_delay_is_within_a_fifth_of_the_duration_and_a_tenth_on_average() -> None:
    ratios = [waited(duration).delay / duration for duration in DURATIONS]
    assert min(ratios) >= 0
    assert max(ratios) < 0.2
    assert statistics.mean(ratios) <= 0.1


def test_polls_at_most_a_third_of_fixed_polling_from_30_s_and_a_fiftieth_at_1_hour() -> None:
    for duration in DURATIONS:
        polls = len(waited(duration).polls)
        if duration >= 30:
            assert polls * 3 <= fixed_polls(duration), (duration, polls)
    assert len(waited(3600.0).polls) * 50 <= fixed_polls(3600.0)


def test_long_jobs_are_seen_at_most_the_cap_late() -> None:
    cap = PollPolicy().max_interval_s
    assert waited(3600.0).delay <= cap
    assert waited(2 * 3600.0 + 1).delay <= cap
