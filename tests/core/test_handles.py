"""Operation handles and event-by-event reading: the rules both clients run, with no I/O."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import jobs_core as core
from jobs_core import JobInvalidRequestError, JobNotReadyError, Now, OperationRef, ReasonerType
from jobs_core import _http_dialect as http
from tests.core.replies import HTTP, ok, txn_json
from tests.core.script import Script

KIND = ReasonerType.LOGIC
REF = OperationRef(id="t1", reasoner_type="Logic", name="r")


def get_txn(state: str, deadline: float | None = None) -> tuple[Any, Any]:
    # With a deadline, a wait's poll: the deadline persists.
    request = attrs.evolve(
        http.build_get(KIND, "t1"), deadline=deadline, persist=deadline is not None
    )
    return (request, ok(txn_json(state=state)))


def test_result_refuses_a_job_that_has_not_ended_then_caches_the_final_one() -> None:
    handle = core.OperationHandle(HTTP, REF)
    with pytest.raises(JobNotReadyError, match="RUNNING"):
        Script(get_txn("RUNNING")).run(handle.result())
    assert handle.final is None
    job = Script(get_txn("COMPLETED")).run(handle.result())
    assert (job.state, handle.final) == ("COMPLETED", job)
    cached = Script()  # no step: a second result() or wait() needs no effect
    assert cached.run(handle.result()) is job
    assert cached.run(handle.wait()) is job
    assert cached.run(handle.is_done()) is True
    assert cached.effects == []


def test_result_of_a_job_not_visible_yet_is_not_ready() -> None:
    handle = core.OperationHandle(HTTP, REF)
    missing = (http.build_get(KIND, "t1"), core.HttpResponse(404, body=b'{"message": "nope"}'))
    with pytest.raises(JobNotReadyError, match="not visible yet"):
        Script(missing).run(handle.result())


def test_wait_caches_its_final_job_and_include_reads_again() -> None:
    handle = core.OperationHandle(HTTP, REF)
    job = Script((Now(), 0.0), get_txn("COMPLETED", deadline=900.0)).run(handle.wait())
    assert handle.final is job
    assert Script().run(handle.result()) is job
    reading = Script(get_txn("COMPLETED"))  # include= asks for more than the cache holds
    assert reading.run(handle.result(include={"raw": True})).state == "COMPLETED"
    assert len(reading.effects) == 1


def test_wait_checks_its_arguments_before_any_effect() -> None:
    with pytest.raises(JobInvalidRequestError, match="timeout_s"):
        core.OperationHandle(HTTP, REF).wait(timeout_s=-1)


@pytest.mark.parametrize("ref", [None, "t1", ["t1"], 3, {"id": "t1"}, {"reasoner_type": "Logic"}])
def test_a_handle_is_made_of_a_reference_or_its_dict_only(ref: object) -> None:
    with pytest.raises(JobInvalidRequestError):
        core.OperationHandle.of(HTTP, ref)


@pytest.mark.parametrize(
    "ref",
    [
        core.OperationRef(id=" ", reasoner_type="Logic"),
        core.OperationRef(id="t1", reasoner_type="Batch"),
        core.OperationRef(id=7, reasoner_type="Logic"),  # type: ignore[arg-type]
    ],
)
def test_a_reference_made_by_hand_is_checked_as_its_dict_is(ref: core.OperationRef) -> None:
    with pytest.raises(JobInvalidRequestError):
        core.OperationHandle.of(HTTP, ref)


def test_a_reference_made_by_hand_is_read_in_its_public_spelling() -> None:
    ref = core.OperationRef(id=" t1 ", reasoner_type="ml", name="r")
    assert core.OperationHandle.of(HTTP, ref).ref == core.OperationRef("t1", "Predictive", "r")


def test_a_handle_round_trips_through_its_dict() -> None:
    handle = core.OperationHandle.of(HTTP, REF)
    assert core.OperationHandle.of(HTTP, handle.to_dict()).ref == REF
    assert handle.metadata == {"reasoner_type": "Logic", "name": "r"}


def read(token: str) -> Any:
    return http.build_events(KIND, "t1", token, "progress")


def page(events: list[int], token: str | None) -> Any:
    return ok({"events": [{"i": i} for i in events], "continuation_token": token})


def test_events_one_by_one_resume_at_the_start_of_a_page_left_half_read() -> None:
    pager = core.EventsPager.open(HTTP, "Logic", "t1")
    script = Script((read(""), page([1, 2], "a")), (read("a"), page([3], "b")))
    assert script.run(pager.next_event()) == {"i": 1}
    assert pager.continuation_token == ""  # {"i": 2} is unread: resume at its page
    assert script.run(pager.next_event()) == {"i": 2}
    assert pager.continuation_token == "a"
    assert len(script.effects) == 1  # the second event came from the page already read
    assert script.run(pager.next_event()) == {"i": 3}
    assert pager.continuation_token == "b"


def test_events_end_with_none_and_a_none_token_once_the_stream_ended() -> None:
    pager = core.EventsPager.open(HTTP, "Logic", "t1")
    script = Script((read(""), page([1], None)))
    assert script.run(pager.next_event()) == {"i": 1}
    assert script.run(pager.next_event()) is None
    assert pager.continuation_token is None
