"""What handles gained: raise_on_failure, cancel, cancel_on_error, events; and what include=
returns. The rules both clients run, with no I/O."""

from __future__ import annotations

import logging
import typing
from typing import Any

import attrs
import pytest

import jobs_core as core
from jobs_core import (
    HttpResponse,
    JobEvents,
    JobExpanded,
    JobFailedError,
    JobNotFoundError,
    Now,
    OperationRef,
    ReasonerType,
    Sleep,
)
from jobs_core import _http_dialect as http
from tests.core.replies import HTTP, ok, txn_json
from tests.core.script import Script

KIND = ReasonerType.LOGIC
REF = OperationRef(id="t1", reasoner_type="Logic", name="r")
ENDINGS = ("FAILED", "ABORTED", "CANCELED")


def get_txn(state: str, deadline: float | None = None, **more: Any) -> tuple[Any, Any]:
    # With a deadline, a wait's poll: the deadline persists.
    request = attrs.evolve(
        http.build_get(KIND, "t1"), deadline=deadline, persist=deadline is not None
    )
    return (request, ok(txn_json(state=state, **more)))


WAIT_DEADLINE = 900.0
"""Where a wait's polls started at time 0 with the default timeout end."""


@pytest.mark.parametrize("state", ENDINGS)
def test_raise_on_failure_turns_every_ending_but_completed_into_job_failed(state: str) -> None:
    handle = core.OperationHandle(HTTP, REF)
    steps = ((Now(), 0.0), get_txn(state, WAIT_DEADLINE, abort_reason="out of memory"))
    with pytest.raises(JobFailedError, match=f"Logic t1 ended {state}: out of memory") as info:
        Script(*steps).run(handle.wait(raise_on_failure=True))
    assert (info.value.job.state, info.value.job_id) == (state, "t1")
    assert isinstance(info.value, core.JobError)
    # The final job is cached all the same: result() raises again without any effect...
    cached = Script()
    with pytest.raises(JobFailedError):
        cached.run(handle.result(raise_on_failure=True))
    # ...and by default (the seeds' behaviour) returns it.
    assert cached.run(handle.result()).state == state
    assert cached.run(handle.wait()).state == state
    assert cached.effects == []


def test_raise_on_failure_returns_a_completed_job() -> None:
    handle = core.OperationHandle(HTTP, REF)
    job = Script(get_txn("COMPLETED")).run(handle.result(raise_on_failure=True))
    assert job.state == "COMPLETED"


def test_a_failure_reason_is_clipped_in_the_message() -> None:
    handle = core.OperationHandle(HTTP, REF)
    with pytest.raises(JobFailedError) as info:
        Script(get_txn("FAILED", abort_reason="x" * 10_000)).run(
            handle.result(raise_on_failure=True)
        )
    assert len(str(info.value)) < 400
    assert info.value.job.abort_reason == "x" * 10_000


def test_raise_on_failure_must_be_a_bool_before_any_effect() -> None:
    handle = core.OperationHandle(HTTP, REF)
    with pytest.raises(core.JobInvalidRequestError, match="raise_on_failure"):
        handle.wait(raise_on_failure="yes")  # type: ignore[arg-type]
    with pytest.raises(core.JobInvalidRequestError, match="raise_on_failure"):
        handle.result(raise_on_failure=1)  # type: ignore[arg-type]


def test_cancel_sends_the_cancel_of_the_job() -> None:
    handle = core.OperationHandle(HTTP, REF)
    script = Script((http.build_cancel(KIND, "t1"), ok({})))
    assert script.finish(handle.cancel()) is None


def test_cancel_on_error_cancels_a_job_not_seen_to_end() -> None:
    handle = core.OperationHandle(HTTP, REF)
    Script((http.build_cancel(KIND, "t1"), ok({}))).finish(handle.cancel_on_error())


def test_cancel_on_error_leaves_an_ended_job_alone() -> None:
    handle = core.OperationHandle(HTTP, REF)
    Script(get_txn("COMPLETED")).run(handle.result())
    script = Script()
    script.finish(handle.cancel_on_error())
    assert script.effects == []


def test_a_failed_cancel_on_error_is_logged_and_raised(caplog: pytest.LogCaptureFixture) -> None:
    handle = core.OperationHandle(HTTP, REF)
    gone = HttpResponse(404, body=b'{"message": "no such transaction"}')
    with (
        caplog.at_level(logging.WARNING, logger="jobs_core"),
        pytest.raises(JobNotFoundError),
    ):
        Script((http.build_cancel(KIND, "t1"), gone)).run(handle.cancel_on_error())
    (record,) = caplog.records
    assert record.name == "jobs_core"
    assert "could not cancel Logic transaction 't1' (reasoner 'r')" in record.getMessage()


def test_events_reads_one_page_of_the_jobs_stream() -> None:
    handle = core.OperationHandle(HTTP, REF)
    page = ok({"events": [{"n": 1}], "continuation_token": "next"})
    script = Script((http.build_events(KIND, "t1", "tok", "progress"), page))
    assert script.finish(handle.events("tok")) == JobEvents([{"n": 1}], "next")


def test_iter_events_pages_through_the_jobs_stream() -> None:
    handle = core.OperationHandle(HTTP, REF)
    pager = handle.iter_events(stream_name="progress")
    assert (pager.kind, pager.job_id, pager.follow) == (KIND, "t1", False)
    page = ok({"events": [{"n": 1}], "continuation_token": None})
    script = Script((http.build_events(KIND, "t1", "", "progress"), page))
    assert script.run(pager.next_event()) == {"n": 1}
    assert script.run(pager.next_event()) is None


def test_str_of_a_handle_names_its_job_and_how_it_ended() -> None:
    handle = core.OperationHandle(HTTP, REF)
    assert str(handle) == "Logic transaction 't1' (reasoner 'r')"
    Script(get_txn("COMPLETED")).run(handle.result())
    assert str(handle) == "Logic transaction 't1' (reasoner 'r'), ended COMPLETED"
    job = core.OperationHandle(HTTP, OperationRef(id="j1", reasoner_type="Predictive"))
    assert str(job) == "Predictive job 'j1'"


@pytest.mark.parametrize("include", [{}, {"raw": False}])
def test_any_include_mapping_returns_job_expanded_as_the_types_say(include: Any) -> None:
    job = Script(get_txn("RUNNING")).run(core.get(HTTP, "Logic", "t1", include=include))
    assert isinstance(job, JobExpanded)
    assert (job.details, job.events, job.raw) == (None, None, None)
    plain = Script(get_txn("RUNNING")).run(core.get(HTTP, "Logic", "t1"))
    assert type(plain) is core.Job


def test_the_reasoner_type_literal_holds_exactly_the_spellings_accepted() -> None:
    names = set(typing.get_args(core.ReasonerTypeName))
    expected = set()
    for kind in ReasonerType:
        expected |= {kind.value, kind.value.upper(), kind.value.lower()}
        expected |= {kind.discriminator, kind.discriminator.lower()}
    assert names == expected
    assert all(core.parse_reasoner_type(name) in ReasonerType for name in names)


def test_wait_logs_each_poll_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    steps = [(Now(), 0.0), get_txn("RUNNING", WAIT_DEADLINE), (Now(), 1.0), (Sleep(0.5), None)]
    steps += [get_txn("COMPLETED", WAIT_DEADLINE)]
    with caplog.at_level(logging.DEBUG, logger="jobs_core"):
        Script(*steps).finish(core.wait(HTTP, "Logic", "t1"))
    (poll,) = [r for r in caplog.records if r.name == "jobs_core"]
    assert poll.levelno == logging.DEBUG
    assert poll.getMessage() == "wait Logic t1: state=RUNNING; next poll in 0.50s"
