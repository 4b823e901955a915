"""Waiting on many jobs (`Completions`, `wait_all`) on simulated time: what it costs, how late it
sees each end, that nothing is missed, its deadline, and its argument checks."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    ClientConfig,
    Completions,
    JobClientDisconnectedError,
    JobInvalidRequestError,
    JobTimeoutError,
    OperationHandle,
    OperationRef,
    PollPolicy,
    ReasonerType,
)
from tests.core.replies import CONFIGS, HTTP, SQL, response
from tests.core.simulated_service import SimJob, SimulatedService

LOGIC, SOLVER, ML = ReasonerType.LOGIC, ReasonerType.PRESCRIPTIVE, ReasonerType.PREDICTIVE


def ops_of(jobs: list[SimJob]) -> list[tuple[str, str]]:
    return [(job.kind.value, job.id) for job in jobs]


def mixed_jobs(count: int, *, seed: int = 7, low: float = 10, high: float = 300) -> list[SimJob]:
    rng = random.Random(seed)
    kinds = [LOGIC, SOLVER, ML]
    return [SimJob(kinds[n % 3], f"job-{n}", rng.uniform(low, high)) for n in range(count)]


def single_wait_detection(config: ClientConfig, job: SimJob, poll_interval_s: float = 0.5) -> float:
    """When a `wait` on `job` alone, started at 0, sees it end."""
    service = SimulatedService([job])
    wait = core.wait(
        config, job.kind.value, job.id, timeout_s=3_600, poll_interval_s=poll_interval_s
    )
    service.run(wait)
    return service.seen_ended[(job.kind, job.id)]


def all_completed(service: SimulatedService, completions: Completions) -> list[Any]:
    jobs: list[Any] = []
    for _ in range(10_000):
        job = service.run(completions.next_done())
        if job is None:
            return jobs
        jobs.append(job)
    raise AssertionError("as_completed never ended")


@pytest.mark.parametrize("backend", ["http", "sql", "hybrid"])
def test_waiting_on_many_jobs_costs_one_get_each_plus_one_list_per_type_per_round(
    backend: str,
) -> None:
    config = CONFIGS[backend]
    jobs = mixed_jobs(60)
    service = SimulatedService(jobs)
    finals = service.run(core.wait_all(config, ops_of(jobs), timeout_s=3_600))
    assert [(j.reasoner_type, j.id) for j in finals] == ops_of(jobs)
    assert all(j.state == "COMPLETED" for j in finals)
    assert service.count("get") == len(jobs)
    assert all(service.gets_of(job.id) == 1 for job in jobs)
    rounds = len(service.sleeps) + 1
    # Over HTTP one answer lists both job types; over SQL each type is one statement.
    per_round = 2 if backend == "http" else 3
    assert service.count("list") <= per_round * rounds
    separate = SimulatedService(jobs)
    for job in jobs:
        separate.clock = 0.0
        separate.run(core.wait(config, job.kind.value, job.id, timeout_s=3_600))
    assert len(service.requests) * 5 < len(separate.requests)


def test_each_end_is_seen_exactly_when_a_single_wait_would_see_it() -> None:
    jobs = mixed_jobs(30, seed=3, low=1, high=400)
    service = SimulatedService(jobs)
    service.run(core.wait_all(HTTP, ops_of(jobs), timeout_s=3_600))
    for job in jobs:
        alone = single_wait_detection(HTTP, job)
        assert service.seen_ended[(job.kind, job.id)] == pytest.approx(alone), job.id


def test_as_completed_hands_out_jobs_in_the_order_they_end() -> None:
    ends = [50.0, 5.0, 20.0, 5.5, 120.0]
    jobs = [SimJob(ML, f"j{n}", end) for n, end in enumerate(ends)]
    service = SimulatedService(jobs)
    completions = Completions.open(HTTP, ops_of(jobs), poll_interval_s=1.0)
    finished = all_completed(service, completions)
    # j1 and j3 end within one round of each other: the one that ended first comes first.
    assert [job.id for job in finished] == ["j1", "j3", "j2", "j0", "j4"]
    assert completions.pending == 0


def test_jobs_ended_before_the_wait_cost_one_list_and_one_get_each() -> None:
    jobs = [SimJob(SOLVER, f"s{n}", ends_at=0.0) for n in range(5)]
    service = SimulatedService(jobs)
    finals = service.run(core.wait_all(HTTP, ops_of(jobs)))
    assert [job.state for job in finals] == ["COMPLETED"] * 5
    assert service.counts() == {"list": 1, "get": 5}
    assert service.sleeps == []


def test_a_job_too_new_to_be_listed_is_read_until_a_get_shows_it_ended() -> None:
    """Absence from a list is never taken for an end: the job is read, and it is running."""
    lagging = SimJob(ML, "new", ends_at=30.0, listed_from=6.0)
    later = SimJob(LOGIC, "later", ends_at=40.0, created_at=2.0)  # 404 until t=2
    steady = SimJob(ML, "steady", ends_at=30.0)
    service = SimulatedService([lagging, later, steady])
    completions = Completions.open(HTTP, ops_of([lagging, later, steady]), poll_interval_s=1.0)
    finished = all_completed(service, completions)
    assert [(job.id, job.state) for job in finished] == [
        ("new", "COMPLETED"),
        ("steady", "COMPLETED"),
        ("later", "COMPLETED"),
    ]
    # Read in every round it was missing from the lists, then once more when it ended.
    missing_rounds = sum(1 for r in service.requests if r.call == "list" and r.at < 6.0) // 2
    assert service.gets_of("new") == missing_rounds + 1
    assert (
        service.gets_of("later")
        == sum(1 for r in service.requests if r.call == "list" and r.at < 2.0 and r.kind is LOGIC)
        + 1
    )
    assert service.gets_of("steady") == 1
    for job in (lagging, later, steady):
        assert service.seen_ended[(job.kind, job.id)] == pytest.approx(
            single_wait_detection(HTTP, SimJob(job.kind, job.id, job.ends_at), 1.0)
        )


def test_the_deadline_ends_the_wait_naming_what_is_still_pending() -> None:
    jobs = [SimJob(ML, "fast", 2.0), SimJob(ML, "slow", 500.0), SimJob(LOGIC, "late", 900.0)]
    service = SimulatedService([*jobs, SimJob(LOGIC, "ghost-free", 1.0)])
    ops = [*ops_of(jobs), ("Logic", "ghost")]
    with pytest.raises(JobTimeoutError) as raised:
        service.run(core.wait_all(HTTP, ops, timeout_s=30, poll_interval_s=1.0))
    error = raised.value
    assert "3 of 4 jobs did not finish within 30s" in str(error)
    assert "2 RUNNING" in str(error)
    assert "1 not found yet" in str(error)
    assert set(error.pending) == {("Predictive", "slow"), ("Logic", "late"), ("Logic", "ghost")}
    slow = error.pending[("Predictive", "slow")]
    assert slow is not None
    assert slow.state == "RUNNING"
    assert error.pending[("Logic", "ghost")] is None
    assert sum(service.sleeps) == pytest.approx(30.0)
    assert all(r.at < 30.0 for r in service.requests)


def test_as_completed_gives_what_ended_before_the_deadline_then_times_out() -> None:
    jobs = [SimJob(ML, "a", 3.0), SimJob(ML, "b", 1_000.0)]
    service = SimulatedService(jobs)
    completions = Completions.open(HTTP, ops_of(jobs), timeout_s=20, poll_interval_s=1.0)
    assert service.run(completions.next_done()).id == "a"
    with pytest.raises(JobTimeoutError) as raised:
        service.run(completions.next_done())
    assert list(raised.value.pending) == [("Predictive", "b")]
    assert service.clock == pytest.approx(20.0)


@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
def test_every_request_is_sent_before_the_deadline(config: ClientConfig) -> None:
    jobs = mixed_jobs(9, low=5, high=50)
    service = SimulatedService(jobs)
    service.run(core.wait_all(config, ops_of(jobs), timeout_s=100, poll_interval_s=0.5))
    assert service.requests
    assert all(r.at < 100 for r in service.requests)
    assert {r.deadline for r in service.requests} == {100.0}


def test_the_last_round_goes_out_when_a_single_waits_last_poll_would() -> None:
    """Early enough to be answered before the deadline, and nothing after it."""
    job = SimJob(ML, "j", 1_000.0)
    together = SimulatedService([job])
    with pytest.raises(JobTimeoutError):
        together.run(core.wait_all(HTTP, ops_of([job]), timeout_s=30, poll_interval_s=1.0))
    alone = SimulatedService([job])
    with pytest.raises(JobTimeoutError):
        alone.run(core.wait(HTTP, "Predictive", "j", timeout_s=30, poll_interval_s=1.0))
    lists = [r.at for r in together.requests if r.call == "list"]
    assert lists == [r.at for r in alone.requests]
    assert lists[-1] == pytest.approx(29.0)
    assert together.clock == alone.clock == pytest.approx(30.0)


def test_rounds_ride_out_transient_failures_until_the_deadline() -> None:
    """More 503s than the retry policy's attempts: a wait, like a poll, keeps going."""

    class Busy(SimulatedService):
        busy = 8

        def answer(self, effect: Any) -> Any:
            if isinstance(effect, core.HttpRequest) and self.busy:
                self.busy -= 1
                return response(503, {"message": "busy"})
            return super().answer(effect)

    jobs = [SimJob(ML, "a", 5.0)]
    service = Busy(jobs)
    (final,) = service.run(core.wait_all(HTTP, ops_of(jobs), timeout_s=300))
    assert final.state == "COMPLETED"
    assert service.busy == 0
    assert HTTP.retry.max_attempts < 8


def test_the_same_job_named_twice_is_read_once_and_returned_twice() -> None:
    job = SimJob(LOGIC, "t1", 4.0)
    service = SimulatedService([job])
    ops: list[Any] = [("Logic", "t1"), OperationRef(id="t1", reasoner_type="Logic")]
    finals = service.run(core.wait_all(HTTP, ops, poll_interval_s=1.0))
    assert [j.id for j in finals] == ["t1", "t1"]
    assert service.gets_of("t1") == 1


def test_handles_keep_their_final_job() -> None:
    handles = [
        OperationHandle(HTTP, OperationRef(id=f"p{n}", reasoner_type="Predictive"))
        for n in range(3)
    ]
    service = SimulatedService([SimJob(ML, f"p{n}", 2.0 * n) for n in range(3)])
    finals = service.run(core.wait_all(HTTP, handles, poll_interval_s=1.0))
    assert [handle.final for handle in handles] == finals
    before = len(service.requests)
    assert service.run(handles[2].result()) == finals[2]
    assert len(service.requests) == before


def test_a_client_disconnected_abort_fails_that_operation_only() -> None:
    jobs = [
        SimJob(LOGIC, "gone", 2.0, outcome="ABORTED", abort_reason="client disconnected"),
        SimJob(LOGIC, "fine", 5.0),
    ]
    service = SimulatedService(jobs)
    completions = Completions.open(HTTP, ops_of(jobs), poll_interval_s=1.0)
    with pytest.raises(JobClientDisconnectedError) as raised:
        service.run(completions.next_done())
    assert raised.value.job_id == "gone"
    assert service.run(completions.next_done()).id == "fine"
    assert service.run(completions.next_done()) is None


def test_the_expansions_asked_for_are_read_once_per_finished_job() -> None:
    jobs = [SimJob(ML, "x", 1.0)]
    service = SimulatedService(jobs)
    (final,) = service.run(core.wait_all(HTTP, ops_of(jobs), include={"details": True}))
    assert final.details is not None


def test_no_operations_need_no_effect() -> None:
    service = SimulatedService([])
    assert service.run(core.wait_all(HTTP, [])) == []
    assert service.run(Completions.open(HTTP, iter(())).next_done()) is None
    assert service.requests == []
    assert service.sleeps == []


def test_rounds_follow_the_polling_policy() -> None:
    config = ClientConfig(http=True, polling=PollPolicy(factor=2.0, max_interval_s=4.0))
    service = SimulatedService([SimJob(ML, "j", 100.0)])
    with pytest.raises(JobTimeoutError):
        service.run(core.wait_all(config, [("Predictive", "j")], timeout_s=20, poll_interval_s=1))
    assert service.sleeps[:4] == [1.0, 2.0, 4.0, 4.0]


BAD_OPS: list[tuple[object, str]] = [
    ("Logic", "ops must be an iterable"),
    ({"Logic": "t1"}, "ops must be an iterable"),
    (5, "ops must be an iterable"),
    ([("Logic",)], r"ops\[0\] must be an operation handle"),
    ([("Logic", "t1", "x")], r"ops\[0\] must be an operation handle"),
    ([("Logic", "t1"), 3], r"ops\[1\] must be an operation handle"),
    (
        [("Logic", "t1"), ("Nope", "t1")],
        r"ops\[1\]: .*Expected: Logic, Prescriptive, or Predictive",
    ),
    ([(None, "t1")], r"ops\[0\]: Invalid reasoner_type None"),
    ([("Logic", "  ")], r"ops\[0\] job_id must be a non-empty string"),
    ([("Logic", None)], r"ops\[0\] job_id must be a non-empty string"),
    ([OperationRef(id=" ", reasoner_type="Logic")], r"ops\[0\] job_id must be a non-empty"),
    ([OperationRef(id=7, reasoner_type="ML")], r"ops\[0\] job_id must be a non-empty"),  # type: ignore[arg-type]
    ([OperationRef(id="t1", reasoner_type="Batch")], r"ops\[0\]: .*Expected: Logic"),
]


@pytest.mark.parametrize(("ops", "message"), BAD_OPS)
def test_bad_operations_are_refused_before_any_effect(ops: object, message: str) -> None:
    with pytest.raises(JobInvalidRequestError, match=message):
        core.wait_all(HTTP, ops)  # type: ignore[arg-type]  # bad on purpose
    with pytest.raises(JobInvalidRequestError, match=message):
        Completions.open(HTTP, ops)  # type: ignore[arg-type]  # bad on purpose


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout_s": 0}, "timeout_s"),
        ({"poll_interval_s": 20}, "poll_interval_s"),
        ({"include": {"artifacts": True}}, "only available for Logic"),
        ({"include": {"bogus": True}}, "Unknown include key"),
    ],
)
def test_bad_options_are_refused_before_any_effect(options: dict[str, Any], message: str) -> None:
    with pytest.raises(JobInvalidRequestError, match=message):
        core.wait_all(HTTP, [("Logic", "t1"), ("Predictive", "p1")], **options)


def test_artifacts_may_be_asked_for_when_every_operation_is_logic() -> None:
    assert Completions.open(HTTP, [("Logic", "t1")], include={"artifacts": True}).include


def test_a_caller_slower_than_the_deadline_gets_a_timeout_without_another_round() -> None:
    jobs = [SimJob(ML, "a", 1.0), SimJob(ML, "b", 1_000.0)]
    service = SimulatedService(jobs)
    completions = Completions.open(HTTP, ops_of(jobs), timeout_s=10, poll_interval_s=1.0)
    assert service.run(completions.next_done()).id == "a"
    service.clock = 50.0  # the caller took its time with "a"
    requests = len(service.requests)
    with pytest.raises(JobTimeoutError):
        service.run(completions.next_done())
    assert len(service.requests) == requests


def test_a_failed_read_is_raised_and_the_wait_resumes_with_nothing_lost() -> None:
    class RefusesOnce(SimulatedService):
        refused = False

        def answer(self, effect: Any) -> Any:
            is_get = isinstance(effect, core.HttpRequest) and effect.target.endswith("/b")
            if is_get and not self.refused:
                self.refused = True
                return response(400, {"message": "not today"})
            return super().answer(effect)

    jobs = [SimJob(ML, "a", 3.0), SimJob(ML, "b", 3.0)]
    service = RefusesOnce(jobs)
    completions = Completions.open(HTTP, ops_of(jobs), poll_interval_s=1.0)
    with pytest.raises(JobInvalidRequestError, match="not today"):
        service.run(completions.next_done())
    assert completions.pending == 2
    assert [service.run(completions.next_done()).id for _ in range(2)] == ["a", "b"]
    assert service.run(completions.next_done()) is None


def test_each_round_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    jobs = [SimJob(ML, "a", 0.0), SimJob(ML, "b", 2.0)]
    with caplog.at_level(logging.DEBUG, logger="jobs_core"):
        SimulatedService(jobs).run(core.wait_all(HTTP, ops_of(jobs), poll_interval_s=1.0))
    rounds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("wait on many")]
    assert rounds[0] == (
        "wait on many: 1 of 2 jobs still running, 1 ended and waiting to be taken;"
        " next round in 1.00s"
    )
    assert len(rounds) == 3


@pytest.mark.parametrize("timeout_s", [1e20, 1e300, float("inf")])
def test_a_huge_timeout_spaces_rounds_as_an_ordinary_one(timeout_s: float) -> None:
    """The time waited is read from the clock, not worked back from a deadline that a huge
    timeout rounds off: rounds must not jump to the policy's cap."""
    spacings = []
    for timeout in (3_600.0, timeout_s):
        start = 123_456.0  # a clock far from zero, as trio's is
        service = SimulatedService([SimJob(ML, "j", start + 30.0)])
        service.clock = start
        service.run(core.wait_all(HTTP, [("Predictive", "j")], timeout_s=timeout))
        spacings.append(service.sleeps)
    assert spacings[1] == spacings[0]
    assert spacings[0][:3] == [0.5, 0.5, 0.5]


def test_handles_whose_final_job_is_known_cost_nothing() -> None:
    """As a handle's own `wait` returns its cached final job without any effect, so do
    `wait_all` and `as_completed` (which hands it out first)."""
    handles = [
        OperationHandle(HTTP, OperationRef(id=f"p{n}", reasoner_type="Predictive"))
        for n in range(3)
    ]
    service = SimulatedService([SimJob(ML, f"p{n}", 5.0 + n) for n in range(3)])
    finals = service.run(core.wait_all(HTTP, handles[:2], poll_interval_s=1.0))
    requests = len(service.requests)
    assert service.run(core.wait_all(HTTP, handles[:2])) == finals
    assert len(service.requests) == requests
    completions = Completions.open(HTTP, [handles[2], handles[1]], poll_interval_s=1.0)
    assert service.run(completions.next_done()) is finals[1]
    assert len(service.requests) == requests
    assert service.run(completions.next_done()).id == "p2"
    # Expansions asked for are read: the cached job has none.
    (expanded,) = service.run(core.wait_all(HTTP, handles[:1], include={"details": True}))
    assert expanded.details is not None


def test_a_job_that_disappears_is_pending_as_last_seen() -> None:
    class Vanishing(SimulatedService):
        def answer(self, effect: Any) -> Any:
            if self.clock >= 3.0 and isinstance(effect, core.HttpRequest):
                self.jobs.pop((ML, "gone"), None)
            return super().answer(effect)

    jobs = [SimJob(ML, "gone", 1_000.0, listed_from=1_000.0), SimJob(ML, "never", 0.0)]
    service = Vanishing(jobs)
    service.jobs.pop((ML, "never"))
    with pytest.raises(JobTimeoutError) as raised:
        service.run(core.wait_all(HTTP, ops_of(jobs), timeout_s=10, poll_interval_s=1.0))
    gone = raised.value.pending[("Predictive", "gone")]
    assert gone is not None
    assert gone.state == "RUNNING"
    assert raised.value.pending[("Predictive", "never")] is None
    assert "1 RUNNING (not found since)" in str(raised.value)
    assert "1 not found yet" in str(raised.value)


def test_a_read_cut_by_the_deadline_loses_none_of_the_jobs_its_round_saw_end() -> None:
    """One read of a round rides out 503s into the deadline while another shows its job ended:
    that job is handed out (not reported pending as RUNNING), then the wait times out."""

    class BusyForB(SimulatedService):
        def answer(self, effect: Any) -> Any:
            is_b = isinstance(effect, core.HttpRequest) and effect.target.endswith("/b")
            if is_b and self.clock >= 3.0:
                return response(503, {"message": "busy"}, (("Retry-After", "60"),))
            return super().answer(effect)

    # Never listed: both are read in every round.
    jobs = [SimJob(ML, "a", 3.0, listed_from=1e9), SimJob(ML, "b", 1e9, listed_from=1e9)]
    service = BusyForB(jobs)
    completions = Completions.open(HTTP, ops_of(jobs), timeout_s=20, poll_interval_s=1.0)
    assert service.run(completions.next_done()).id == "a"
    with pytest.raises(JobTimeoutError) as raised:
        service.run(completions.next_done())
    assert list(raised.value.pending) == [("Predictive", "b")]
    assert "last failure: status 503: busy" in str(raised.value)
    assert service.clock == pytest.approx(20.0)
