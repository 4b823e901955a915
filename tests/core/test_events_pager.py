"""The events pager: to the end of the stream, following a running job, and resuming."""

from __future__ import annotations

from typing import Any

import pytest

import jobs_core as core
from jobs_core import JobEvents, Now, ReasonerType, Sleep
from jobs_core import _http_dialect as http
from tests.core.replies import HTTP, ok, txn_json
from tests.core.script import Script

KIND = ReasonerType.LOGIC


def page(events: list[int], token: str | None) -> Any:
    return ok({"events": [{"i": i} for i in events], "continuation_token": token})


def read(token: str) -> Any:
    return http.build_events(KIND, "t1", token, "progress")


def drain(pager: core.EventsPager, script: Script) -> list[JobEvents]:
    pages = []
    while (next_page := script.run(pager.next_page())) is not None:
        pages.append(next_page)
    return pages


def test_walks_tokens_until_an_empty_page() -> None:
    script = Script(
        (read(""), page([1, 2], "a")), (read("a"), page([3], "b")), (read("b"), page([], "b"))
    )
    pager = core.EventsPager.open(HTTP, "Logic", "t1")
    assert [p.events for p in drain(pager, script)] == [[{"i": 1}, {"i": 2}], [{"i": 3}]]
    assert pager.continuation_token == "b"
    assert script.run(pager.next_page()) is None  # finished: no more effects
    assert len(script.effects) == 3


def test_a_page_without_token_is_the_last() -> None:
    script = Script((read(""), page([1], None)))
    pager = core.EventsPager.open(HTTP, "Logic", "t1")
    assert len(drain(pager, script)) == 1
    assert not script.steps


def test_follow_polls_while_the_job_runs_then_drains_after_it_ends() -> None:
    """A quiet round reads the record only when its read falls due before the next events read
    (on `wait`'s schedule from the start of following), and a page with events starts the next
    quiet stretch at the first interval again."""
    running = (http.build_get(KIND, "t1"), ok(txn_json(state="RUNNING")))
    script = Script(
        (read(""), page([1], "a")),
        (read("a"), page([], "a")),
        (Now(), 0.0),
        running,  # the first quiet round reads the record; the next read is due at 0.25
        (Sleep(0.25), None),
        (read("a"), page([2], "b")),
        (read("b"), page([], "b")),
        (Now(), 10.0),
        running,  # overdue; 10 s into following, the next is due 2 s later
        (Sleep(0.25), None),
        (read("b"), page([], "b")),
        (Now(), 10.25),
        (Sleep(0.25), None),  # not due before the next events read: not read
        (read("b"), page([3], "c")),
        (read("c"), page([], "c")),
        (Now(), 11.9),
        (http.build_get(KIND, "t1"), ok(txn_json(state="COMPLETED"))),  # due before 12.15
        (read("c"), page([4], "d")),
        (read("d"), page([], "d")),
    )
    pager = core.EventsPager.open(HTTP, "Logic", "t1", follow=True, poll_interval_s=0.25)
    events = [e["i"] for p in drain(pager, script) for e in p.events]
    assert events == [1, 2, 3, 4]
    assert not script.steps


def test_resuming_from_the_token_continues_after_the_last_page() -> None:
    first = core.EventsPager.open(HTTP, "Logic", "t1")
    Script((read(""), page([1], "a"))).run(first.next_page())
    resumed = core.EventsPager.open(HTTP, "Logic", "t1", first.continuation_token)
    script = Script((read("a"), page([2], "b")), (read("b"), page([], "b")))
    assert [p.events for p in drain(resumed, script)] == [[{"i": 2}]]


@pytest.mark.parametrize("kind", list(ReasonerType))
def test_job_tokens_are_sent_only_when_not_empty(kind: ReasonerType) -> None:
    target = http.build_events(kind, "x", "", "progress").target
    assert ("continuation_token" in target) is kind.is_logic


def test_a_page_the_service_sends_again_for_its_own_token_ends_the_stream() -> None:
    """A token answered with the same events and itself would be read forever: the repeat is
    no new event, so the pager ends instead of handing out the same events again."""
    script = Script(
        (read(""), page([1, 2], "a")), (read("a"), page([3], "a")), (read("a"), page([3], "a"))
    )
    pager = core.EventsPager.open(HTTP, "Logic", "t1")
    events = [e["i"] for p in drain(pager, script) for e in p.events]
    assert events == [1, 2, 3]
    assert not script.steps


def test_following_a_stream_that_repeats_its_last_page_ends_with_the_job() -> None:
    script = Script(
        (read(""), page([1], "a")),
        (read("a"), page([2], "a")),
        (read("a"), page([2], "a")),
        (Now(), 0.0),
        (http.build_get(KIND, "t1"), ok(txn_json(state="RUNNING"))),
        (Sleep(0.25), None),
        (read("a"), page([2], "a")),
        (Now(), 0.25),
        (http.build_get(KIND, "t1"), ok(txn_json(state="COMPLETED"))),
        (read("a"), page([2], "a")),
    )
    pager = core.EventsPager.open(HTTP, "Logic", "t1", follow=True, poll_interval_s=0.25)
    events = [e["i"] for p in drain(pager, script) for e in p.events]
    assert events == [1, 2]
    assert not script.steps


def test_a_token_that_stays_the_same_while_events_change_is_a_cursor_read_to_its_end() -> None:
    script = Script(
        (read(""), page([1], "c")),
        (read("c"), page([2], "c")),
        (read("c"), page([3], "c")),
        (read("c"), page([], "c")),
    )
    pager = core.EventsPager.open(HTTP, "Logic", "t1")
    assert [e["i"] for p in drain(pager, script) for e in p.events] == [1, 2, 3]
    assert not script.steps


def test_stopping_mid_page_resumes_at_the_token_that_page_was_read_with() -> None:
    """Not at the token of an empty page read before it while following."""
    script = Script(
        (read(""), page([], "a")),
        (Now(), 0.0),
        (http.build_get(KIND, "t1"), ok(txn_json(state="RUNNING"))),
        (Sleep(0.25), None),
        (read("a"), page([1, 2], "b")),
    )
    pager = core.EventsPager.open(HTTP, "Logic", "t1", follow=True, poll_interval_s=0.25)
    assert script.run(pager.next_event()) == {"i": 1}
    assert pager.continuation_token == "a"
    assert script.run(pager.next_event()) == {"i": 2}
    assert pager.continuation_token == "b"
