"""The engine alone, on a manual clock: states, scripts, events, cancel, users, timeouts. No I/O."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs_emulator import (
    Engine,
    InvalidRequest,
    ManualClock,
    NotFound,
    NotReady,
    PermissionDenied,
    RealClock,
    _records,
)
from jobs_emulator._events import encode_token, progress_event

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_engine(page_size: int = 10) -> Engine:
    return Engine(ManualClock(), page_size=page_size)


def payload(**emulate: Any) -> str:
    return json.dumps({"model": "m", "emulate": emulate})


def create_txn(engine: Engine, user: str = "alice", **kwargs: Any) -> str:
    return engine.create_transaction(
        database="db", engine_name="e1", query="def output = 1", user=user, **kwargs
    )


def read_all(engine: Engine, record_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Page through the stream until the token is None; return every event."""
    events: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(1000):
        page = engine.events(record_id, token, **kwargs)
        events += page.events
        if page.continuation_token is None:
            return events
        token = page.continuation_token
    raise AssertionError("the stream never ended")


def test_state_timeline_follows_the_clock() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=10), user="alice")
    seen = []
    for step in (0, 0.1, 0.1, 5, 4.7, 0.1):
        engine.advance(step)
        seen.append(engine.get(job_id).state)
    assert seen == ["CREATED", "PENDING", "RUNNING", "RUNNING", "RUNNING", "COMPLETED"]


def test_a_finished_job_has_duration_and_finished_at() -> None:
    engine = make_engine()
    job_id = engine.create_job("solver", "w1", payload(duration_s=2.5), user="alice")
    running = engine.get(job_id)
    assert (running.finished_at, running.duration, running.created_on) == (None, None, START)
    engine.advance(3)
    job = engine.get(job_id, kind="SOLVER")
    assert job.kind == "SOLVER"
    assert job.state == "COMPLETED"
    assert job.duration == 2500
    assert job.finished_at == datetime(2026, 1, 1, 0, 0, 2, 500000, tzinfo=timezone.utc)
    assert job.created_by == "alice"
    assert job.is_terminal


def test_unscripted_job_runs_half_a_second_with_three_events() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", "{}", user="alice")
    engine.advance(0.49)
    assert engine.get(job_id).state == "RUNNING"
    engine.advance(0.01)
    assert engine.get(job_id).state == "COMPLETED"
    assert len(read_all(engine, job_id)) == 3


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [("FAILED", "boom"), ("ABORTED", "client disconnected"), ("FAILED", None)],
)
def test_scripted_outcomes(outcome: str, reason: str | None) -> None:
    engine = make_engine()
    script: dict[str, Any] = {"duration_s": 1, "outcome": outcome}
    if reason is not None:
        script["abort_reason"] = reason
    job_id = engine.create_job("ML", "w1", payload(**script), user="alice")
    assert engine.get(job_id).abort_reason is None
    engine.advance(1)
    job = engine.get(job_id)
    assert (job.state, job.abort_reason) == (outcome, reason)


def test_events_are_exactly_n_and_spread_over_the_run() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=10, events=5), user="alice")
    engine.advance(4)
    assert [e["index"] for e in engine.events(job_id).events] == [1, 2]
    engine.advance(6)
    events = read_all(engine, job_id)
    assert [e["index"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0] == {
        "type": "progress",
        "index": 1,
        "message": "step 1 of 5",
        "progress": 0.2,
        "timestamp": "2026-01-01T00:00:02.000Z",
    }


def test_paging_with_bounded_pages_and_a_growing_stream() -> None:
    engine = make_engine(page_size=3)
    job_id = engine.create_job("ML", "w1", payload(duration_s=10, events=10), user="alice")
    engine.advance(5)
    first = engine.events(job_id)
    assert [e["index"] for e in first.events] == [1, 2, 3]
    second = engine.events(job_id, first.continuation_token)
    assert [e["index"] for e in second.events] == [4, 5]
    caught_up = engine.events(job_id, second.continuation_token)
    assert caught_up.events == []
    assert caught_up.continuation_token == second.continuation_token
    engine.advance(5)
    rest = read_all(engine, job_id)
    assert [e["index"] for e in rest] == list(range(1, 11))
    assert engine.events(job_id, "0").events == first.events
    assert engine.events(job_id, "").events == first.events


def test_a_terminal_stream_without_events_ends_at_once() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=0, events=0), user="alice")
    assert engine.events(job_id).to_json() == {"events": [], "continuation_token": None}


@given(
    events=st.integers(min_value=0, max_value=40),
    page_size=st.integers(min_value=1, max_value=12),
    steps=st.lists(st.floats(min_value=0, max_value=3), max_size=8),
)
def test_paging_never_loses_or_repeats_an_event(
    events: int, page_size: int, steps: list[float]
) -> None:
    engine = make_engine(page_size=page_size)
    job_id = engine.create_job("ML", "w1", payload(duration_s=5, events=events), user="a")
    pages = [engine.events(job_id)]
    for step in [*steps, 5.0]:
        if pages[-1].continuation_token is None:
            break
        engine.advance(step)
        pages.append(engine.events(job_id, pages[-1].continuation_token))
    while pages[-1].continuation_token is not None:
        pages.append(engine.events(job_id, pages[-1].continuation_token))
    assert all(len(page.events) <= page_size for page in pages)
    seen = [event["index"] for page in pages for event in page.events]
    assert seen == list(range(1, events + 1))


@pytest.mark.parametrize(
    "token", ["garbage!", "bm90LWEtam9iOjE", "MTox"], ids=["not-base64", "other-job", "other-id"]
)
def test_foreign_or_broken_tokens_are_invalid(token: str) -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", "{}", user="alice")
    with pytest.raises(InvalidRequest, match="continuation_token"):
        engine.events(job_id, token)


def test_only_the_progress_stream_exists() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", "{}", user="alice")
    with pytest.raises(InvalidRequest, match="progress"):
        engine.events(job_id, stream="logs")


def test_cancel_a_running_job_and_cancel_again() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=10, events=10), user="alice")
    engine.advance(3)
    canceled = engine.cancel(job_id, user="bob")
    assert (canceled.state, canceled.duration, canceled.abort_reason) == ("CANCELED", 3000, None)
    engine.advance(20)
    again = engine.cancel(job_id)
    assert again == engine.get(job_id) == canceled
    assert len(read_all(engine, job_id)) == 3


def test_cancel_a_terminal_job_is_harmless() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=1), user="alice")
    engine.advance(2)
    assert engine.cancel(job_id).state == "COMPLETED"
    assert engine.get(job_id).state == "COMPLETED"


def test_timeout_aborts_a_job_that_runs_too_long() -> None:
    engine = make_engine()
    job_id = engine.create_job(
        "ML", "w1", payload(duration_s=600, events=10), user="alice", timeout_mins=2
    )
    engine.advance(119)
    assert engine.get(job_id).state == "RUNNING"
    engine.advance(1)
    job = engine.get(job_id)
    assert (job.state, job.duration, job.timeout_ms) == ("ABORTED", 120_000, 120_000)
    assert job.abort_reason is not None
    assert "timeout" in job.abort_reason
    assert len(read_all(engine, job_id)) == 2


def test_a_job_that_ends_before_its_timeout_is_not_aborted() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=60), user="alice", timeout_mins=1)
    engine.advance(60)
    assert engine.get(job_id).state == "COMPLETED"


def test_not_ready_refuses_creates_and_reads_until_ready() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", "{}", user="alice")
    engine.set_not_ready("W1")
    with pytest.raises(NotReady, match="not ready to accept jobs"):
        engine.create_job("ML", "w1", "{}", user="alice")
    with pytest.raises(NotReady):
        engine.get(job_id)
    with pytest.raises(NotReady):
        engine.events(job_id)
    assert len(engine.list_jobs()) == 1
    engine.set_not_ready("w1", False)
    assert engine.get(job_id).id == job_id


def test_a_not_ready_script_makes_no_record() -> None:
    engine = make_engine()
    with pytest.raises(NotReady):
        engine.create_job("ML", "w1", payload(not_ready=True), user="alice")
    with pytest.raises(NotReady):
        create_txn(engine, headers={"emulate": {"not_ready": True}})
    assert engine.list_jobs() == engine.list_transactions() == []


def test_default_scripts_per_name_are_overridden_key_by_key() -> None:
    engine = make_engine()
    engine.set_script("slow", {"duration_s": 100, "outcome": "FAILED"})
    job_id = engine.create_job("ML", "SLOW", payload(outcome="COMPLETED"), user="alice")
    other = engine.create_job("ML", "fast", "{}", user="alice")
    engine.advance(99)
    assert (engine.get(job_id).state, engine.get(other).state) == ("RUNNING", "COMPLETED")
    engine.advance(1)
    assert engine.get(job_id).state == "COMPLETED"
    engine.set_script("slow", None)
    assert engine.get(engine.create_job("ML", "slow", "{}", user="a")).state == "CREATED"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"outcome": "DONE"}, "outcome"),
        ({"duration_s": -1}, "duration_s"),
        ({"events": 1.5}, "events"),
        ({"artifacts": [3]}, "artifacts"),
        ({"problems": ["x"]}, "problems"),
        ({"not_ready": "yes"}, "not_ready"),
        ({"speed": 2}, "unknown emulate keys"),
    ],
)
def test_invalid_scripts_are_invalid_requests(script: dict[str, Any], message: str) -> None:
    engine = make_engine()
    with pytest.raises(InvalidRequest, match=message):
        engine.create_job("ML", "w1", payload(**script), user="alice")
    with pytest.raises(InvalidRequest, match=message):
        engine.set_script("w1", script)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.create_job("LOGIC", "w1", "{}", user="a"), "job_type"),
        (lambda e: e.create_job("ML", " ", "{}", user="a"), "worker_name"),
        (lambda e: e.create_job("ML", "w1", "{not json", user="a"), "payload"),
        (lambda e: e.create_job("ML", "w1", "{}", user="a", timeout_mins=0), "timeout_mins"),
        (lambda e: create_txn(e, headers=["emulate"]), "headers"),
        (lambda e: e.get("x", kind="JOB"), "unknown type"),
    ],
)
def test_invalid_calls(call: Any, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        call(make_engine())


def test_unknown_ids_and_other_kinds_are_not_found() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", "{}", user="alice")
    with pytest.raises(NotFound):
        engine.get("nope")
    with pytest.raises(NotFound):
        engine.get(job_id, kind="SOLVER")
    with pytest.raises(NotFound):
        engine.artifacts(job_id)
    with pytest.raises(NotFound):
        engine.cancel("nope")


def test_lists_are_newest_first_and_split_by_kind() -> None:
    engine = make_engine()
    first = engine.create_job("ML", "w1", "{}", user="alice")
    second = engine.create_job("SOLVER", "w1", "{}", user="bob")
    engine.advance(1)
    third = engine.create_job("ML", "w1", "{}", user="alice")
    txn = create_txn(engine)
    assert [j.id for j in engine.list_jobs()] == [third, second, first]
    assert [t.id for t in engine.list_transactions()] == [txn]


def test_transactions_are_scripted_through_headers_and_overridden_by_emulate() -> None:
    engine = make_engine()
    txn = create_txn(
        engine,
        headers={"emulate": {"duration_s": 5, "outcome": "FAILED", "abort_reason": "bad"}},
        emulate={"outcome": "ABORTED"},
        read_only=False,
        language="lqp",
        abort_detached=True,
    )
    engine.advance(5)
    record = engine.get(txn, kind="logic")
    assert (record.state, record.abort_reason) == ("ABORTED", "bad")
    assert (record.database, record.name, record.read_only, record.language) == (
        "db",
        "e1",
        False,
        "lqp",
    )
    assert record.is_transaction
    assert record.abort_detached


def test_artifacts_and_problems_appear_with_the_scripted_outcome() -> None:
    engine = make_engine()
    script = {
        "duration_s": 2,
        "artifacts": ["a.csv", {"filename": "b.json", "content_type": "application/json"}],
        "problems": [{"type": "ClientProblem", "message": "undefined x"}],
    }
    txn = create_txn(engine, headers={"emulate": script})
    assert engine.artifacts(txn) == engine.problems(txn) == []
    engine.advance(2)
    assert engine.artifacts(txn, user="ALICE") == [
        {"filename": "a.csv"},
        {"filename": "b.json", "content_type": "application/json"},
    ]
    assert engine.problems(txn) == [{"type": "ClientProblem", "message": "undefined x"}]


def test_a_cancelled_transaction_has_no_artifacts() -> None:
    engine = make_engine()
    txn = create_txn(engine, headers={"emulate": {"duration_s": 2, "artifacts": ["a.csv"]}})
    engine.cancel(txn)
    engine.advance(5)
    assert engine.artifacts(txn) == []


def test_a_user_reads_and_cancels_only_its_own_transactions() -> None:
    engine = make_engine()
    txn = create_txn(engine, user="alice", headers={"emulate": {"duration_s": 10}})
    for call in (engine.events, engine.artifacts, engine.problems, engine.cancel):
        with pytest.raises(PermissionDenied, match="another user"):
            call(txn, user="bob")
    assert engine.get(txn).state == "CREATED"
    assert engine.events(txn, user="Alice").events == []
    assert engine.cancel(txn, user="bob", all_users=True).state == "CANCELED"


def test_jobs_are_anyones_to_read_and_cancel() -> None:
    engine = make_engine()
    job_id = engine.create_job("ML", "w1", payload(duration_s=10), user="alice")
    assert engine.events(job_id, user="bob").events == []
    assert engine.cancel(job_id, user="bob").state == "CANCELED"


def test_reset_forgets_everything() -> None:
    engine = make_engine()
    engine.create_job("ML", "w1", "{}", user="alice")
    engine.set_not_ready("w1")
    engine.set_script("w2", {"outcome": "FAILED"})
    engine.reset()
    assert engine.list_jobs() == []
    job_id = engine.create_job("ML", "w2", "{}", user="alice")
    engine.advance(1)
    assert engine.get(job_id).state == "COMPLETED"


def test_clocks() -> None:
    clock = ManualClock()
    assert clock.now() == START.timestamp()
    assert clock.advance(1.5) == START.timestamp() + 1.5
    assert clock.set(START.timestamp() + 10) == START.timestamp() + 10
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="forward"):
        clock.set(0)
    with pytest.raises(TypeError, match="ManualClock"):
        Engine(RealClock()).advance(1)
    with pytest.raises(ValueError, match="page_size"):
        Engine(page_size=0)


def test_concurrent_creates_from_many_threads() -> None:
    engine = make_engine()
    made: list[str] = []

    def create() -> None:
        ids = [engine.create_job("ML", "w1", "{}", user="alice") for _ in range(50)]
        made.extend(ids)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 400
    listed = engine.list_jobs()
    assert sorted(j.id for j in listed) == sorted(made)


def test_a_page_of_a_huge_stream_makes_only_its_own_events(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(page_size=10)
    job_id = engine.create_job("ML", "w1", payload(duration_s=100, events=200_000), user="a")
    engine.advance(50)
    made: list[int] = []
    real = progress_event

    def counting(index: int, total: int, at: float) -> dict[str, Any]:
        made.append(index)
        return real(index, total, at)

    monkeypatch.setattr(_records, "progress_event", counting)
    first = engine.events(job_id, kind="ML")
    middle = engine.events(job_id, encode_token(job_id, 99_990), kind="ML")
    assert made == [*range(1, 11), *range(99_991, 100_001)]
    assert [event["index"] for event in middle.events] == list(range(99_991, 100_001))
    assert middle.events[-1]["progress"] == 0.5
    assert middle.events[-1]["timestamp"] == "2026-01-01T00:00:50.000Z"
    caught_up = engine.events(job_id, middle.continuation_token, kind="ML")
    assert (caught_up.events, caught_up.continuation_token) == ([], middle.continuation_token)
    assert first.continuation_token == encode_token(job_id, 10)


@given(
    duration=st.floats(min_value=0, max_value=1e4),
    events=st.integers(min_value=0, max_value=50),
    elapsed=st.floats(min_value=0, max_value=2e4),
)
def test_the_emitted_count_is_the_events_whose_time_has_come(
    duration: float, events: int, elapsed: float
) -> None:
    engine = make_engine()
    t0 = engine.now()
    job_id = engine.create_job("ML", "w", payload(duration_s=duration, events=events), user="a")
    engine.advance(elapsed)
    horizon = min(engine.now(), t0 + duration)
    due = [i for i in range(1, events + 1) if horizon >= t0 + duration * i / events - 1e-6]
    seen: list[int] = []
    token: str | None = None
    for _ in range(10):  # 50 events at most, 10 a page: the last page is empty or ends the stream
        page = engine.events(job_id, token)
        seen += [event["index"] for event in page.events]
        token = page.continuation_token
        if not page.events or token is None:
            break
    assert seen == due


@pytest.mark.parametrize(("step", "steps"), [(0.01, 1000), (0.1, 300), (1 / 3, 90)])
def test_a_manual_clock_advanced_in_small_steps_adds_them_up_exactly(
    step: float, steps: int
) -> None:
    # Summed as floats at 1.7e9 seconds, each step rounded to 2.4e-7 s: after 1,000 steps of
    # 0.01 s the clock was 120 µs short of 10 s, and a 10 s job was still RUNNING.
    clock = ManualClock()
    engine = Engine(clock)
    duration = round(step * steps)
    job = engine.create_job("ML", "w", payload(duration_s=duration, events=steps), user="u")
    for _ in range(steps):
        clock.advance(step)
    assert clock.now() == START.timestamp() + duration
    assert engine.get(job).state == "COMPLETED"
    assert len(engine.events(job).events) == min(steps, engine.page_size)


@pytest.mark.parametrize(
    "call",
    [
        lambda engine: engine.set_script(None, {"duration_s": 1}),  # was an AttributeError
        lambda engine: engine.set_script(" ", {"duration_s": 1}),
        lambda engine: engine.set_not_ready(None),
        lambda engine: engine.set_not_ready("w", "no"),  # was taken as true
    ],
)
def test_set_up_calls_refuse_bad_arguments_as_invalid_requests(call: Any) -> None:
    engine = make_engine()
    with pytest.raises(InvalidRequest):
        call(engine)
    engine.create_job("ML", "w", payload(), user="u")  # nothing was marked not ready
