"""`wait` on simulated time: polls, detection delay, policies, deadline."""

from __future__ import annotations

import json
from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    ClientConfig,
    HttpRequest,
    JobClientDisconnectedError,
    JobTimeoutError,
    PollPolicy,
)
from tests.core.replies import ok, txn_json
from tests.core.simulated_time import SimulatedTime


class SimulatedJob(SimulatedTime):
    """Answers a protocol's effects: the clock moves only by `Sleep`, the job ends at `ends_at`."""

    def __init__(self, ends_at: float, *, abort_reason: str | None = None) -> None:
        super().__init__()
        self.ends_at = ends_at
        self.abort_reason = abort_reason
        self.polls: list[float] = []

    def answer_request(self, effect: Any) -> Any:
        assert isinstance(effect, HttpRequest)
        assert effect.deadline is not None
        assert self.clock < effect.deadline
        self.polls.append(self.clock)
        done = self.clock >= self.ends_at
        state = ("ABORTED" if self.abort_reason else "COMPLETED") if done else "RUNNING"
        return ok(txn_json(state=state, abort_reason=self.abort_reason if done else None))


def _config(factor: float, cap: float = 5.0) -> ClientConfig:
    # fraction=0: growth by `factor` alone, which these tests pin.
    return ClientConfig(
        http=True, polling=PollPolicy(factor=factor, max_interval_s=cap, fraction=0.0)
    )


def test_fixed_interval_polls_every_interval_and_detects_within_one_interval() -> None:
    sim = SimulatedJob(ends_at=10.3)
    job = sim.run(core.wait(_config(1.0), "Logic", "t1", timeout_s=60, poll_interval_s=1.0))
    assert job.state == "COMPLETED"
    assert sim.polls == [float(n) for n in range(12)]  # 0, 1, ..., 11: found at t=11
    assert sim.sleeps == [1.0] * 11
    assert sim.polls[-1] - sim.ends_at == pytest.approx(0.7)


def test_backoff_grows_by_factor_up_to_the_cap() -> None:
    sim = SimulatedJob(ends_at=10.0)
    sim.run(core.wait(_config(2.0, cap=3.0), "Logic", "t1", timeout_s=60, poll_interval_s=0.5))
    assert sim.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert sim.polls == [0.0, 0.5, 1.5, 3.5, 6.5, 9.5, 12.5]
    detection_delay = sim.polls[-1] - sim.ends_at
    assert 0 <= detection_delay <= 3.0  # never more than the cap


@pytest.mark.parametrize("factor", [1.0, 1.5, 2.0])
@pytest.mark.parametrize("timeout_s", [0.3, 2.0, 7.25])
def test_no_sleep_crosses_the_deadline_and_the_wait_ends_at_it(
    factor: float, timeout_s: float
) -> None:
    sim = SimulatedJob(ends_at=1_000.0)
    with pytest.raises(JobTimeoutError) as raised:
        sim.run(core.wait(_config(factor), "Logic", "t1", timeout_s=timeout_s, poll_interval_s=0.4))
    assert sum(sim.sleeps) == pytest.approx(timeout_s)
    assert sim.polls[-1] < timeout_s
    assert raised.value.job is not None
    assert raised.value.job.state == "RUNNING"


def test_the_last_poll_leaves_time_for_its_answer() -> None:
    """A poll at the deadline would have no time left: the last one goes out 5% of the timeout
    before it (at most a second), then the wait sleeps out the rest."""
    sim = SimulatedJob(ends_at=3.0)
    with pytest.raises(JobTimeoutError):
        sim.run(core.wait(_config(1.0), "Logic", "t1", timeout_s=3.0, poll_interval_s=1.0))
    assert sim.polls == [0.0, 1.0, 2.0, 2.85]
    assert sim.clock == 3.0


def test_a_job_ending_just_before_the_deadline_is_seen_by_the_last_poll() -> None:
    sim = SimulatedJob(ends_at=2.8)
    assert sim.run(core.wait(_config(1.0), "Logic", "t1", timeout_s=3.0, poll_interval_s=1.0))
    assert sim.polls == [0.0, 1.0, 2.0, 2.85]


def test_progress_callback_sees_every_poll() -> None:
    seen: list[str | None] = []
    sim = SimulatedJob(ends_at=2.0)
    sim.run(
        core.wait(
            _config(1.0),
            "Logic",
            "t1",
            poll_interval_s=1.0,
            on_poll=lambda job: seen.append(job.state if job else None),
        )
    )
    assert seen == ["RUNNING", "RUNNING", "COMPLETED"]


def test_client_disconnected_abort_raises_its_own_error() -> None:
    sim = SimulatedJob(ends_at=1.0, abort_reason="Client Disconnected")
    with pytest.raises(JobClientDisconnectedError):
        sim.run(core.wait(_config(1.0), "Logic", "t1", poll_interval_s=1.0))


def test_other_aborts_are_returned() -> None:
    sim = SimulatedJob(ends_at=1.0, abort_reason="out of memory")
    job = sim.run(core.wait(_config(1.0), "Logic", "t1", poll_interval_s=1.0))
    assert (job.state, job.abort_reason) == ("ABORTED", "out of memory")


def test_a_job_not_found_yet_keeps_polling() -> None:
    answers = iter([404, 404, 200])

    class Appearing(SimulatedJob):
        def answer(self, effect: Any) -> Any:
            if isinstance(effect, HttpRequest):
                status = next(answers)
                body = {"message": "not found"} if status == 404 else txn_json(state="COMPLETED")
                return (
                    ok(body)
                    if status == 200
                    else core.HttpResponse(404, (), json.dumps(body).encode())
                )
            return super().answer(effect)

    sim = Appearing(ends_at=0.0)
    job = sim.run(core.wait(_config(1.0), "Logic", "t1", poll_interval_s=1.0))
    assert job.state == "COMPLETED"
    assert sim.sleeps == [1.0, 1.0]


def test_retries_inside_a_wait_never_sleep_past_its_deadline() -> None:
    """A 503 asking for 30 s between tries must not keep a 1 s wait going for minutes."""

    class Unavailable(SimulatedJob):
        def answer(self, effect: Any) -> Any:
            if isinstance(effect, HttpRequest):
                self.polls.append(self.clock)
                return core.HttpResponse(503, (("Retry-After", "30"),), b'{"message": "busy"}')
            return super().answer(effect)

    sim = Unavailable(ends_at=0.0)
    with pytest.raises(JobTimeoutError) as raised:
        sim.run(core.wait(_config(1.0), "Logic", "t1", timeout_s=1.0, poll_interval_s=0.5))
    assert sum(sim.sleeps) == pytest.approx(1.0)
    assert raised.value.job_id == "t1"
    assert raised.value.job is None
    assert "last failure: status 503: busy" in str(raised.value)


# A clock far from zero, as trio's (randomly offset) and a long-running machine's are.
FAR_CLOCK = 123_456.0


@pytest.mark.parametrize("timeout_s", [1e9, 1e20, 1e300, float("inf")])
def test_a_huge_timeout_spaces_polls_as_an_ordinary_one(timeout_s: float) -> None:
    """The time waited is read from the clock, not worked back from a deadline that a huge
    timeout rounds off: the polls of a wait must not jump to the policy's cap."""
    spacings = []
    for timeout in (3_600.0, timeout_s):
        sim = SimulatedJob(ends_at=FAR_CLOCK + 30.0)
        sim.clock = FAR_CLOCK
        sim.run(core.wait(ClientConfig(http=True), "Logic", "t1", timeout_s=timeout))
        spacings.append(sim.sleeps)
    assert spacings[1] == spacings[0]
    assert spacings[0][:3] == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("timeout_s", [1e20, float("inf")])
def test_create_ready_with_a_huge_timeout_spaces_polls_as_an_ordinary_one(
    timeout_s: float,
) -> None:
    class Creating(SimulatedJob):
        def answer_request(self, effect: Any) -> Any:
            if effect.method == "POST":
                return ok({"id": "t1"})
            return super().answer_request(effect)

    spacings = []
    for timeout in (3_600.0, timeout_s):
        sim = Creating(ends_at=FAR_CLOCK + 30.0)
        sim.clock = FAR_CLOCK
        payload = {"dbname": "db", "query": "q"}
        protocol = core.create_ready(
            ClientConfig(http=True), "Logic", "e1", payload, timeout_s=timeout
        )
        assert sim.run(protocol).state == "COMPLETED"
        spacings.append(sim.sleeps)
    assert spacings[1] == spacings[0]


def test_a_job_that_disappears_times_out_with_the_job_as_last_seen() -> None:
    """Seen RUNNING, then not found: the wait goes on (a read may lag), and its timeout carries
    the job as it was last seen, not None ("not found yet" would say it never existed)."""

    class Vanishing(SimulatedJob):
        def answer_request(self, effect: Any) -> Any:
            if self.clock >= 2.0:
                self.polls.append(self.clock)
                return core.HttpResponse(404, (), b'{"message": "not found"}')
            return super().answer_request(effect)

    seen: list[str | None] = []
    sim = Vanishing(ends_at=1_000.0)
    with pytest.raises(JobTimeoutError) as raised:
        sim.run(
            core.wait(
                _config(1.0),
                "Logic",
                "t1",
                timeout_s=5.0,
                poll_interval_s=1.0,
                on_poll=lambda job: seen.append(job.state if job else None),
            )
        )
    assert raised.value.job is not None
    assert raised.value.job.state == "RUNNING"
    assert "last seen: state=RUNNING, not found since" in str(raised.value)
    assert seen[:3] == ["RUNNING", "RUNNING", None]  # each poll reports what it saw
