"""`include=` expansions that fail give empty values: new ones every time, never shared."""

from __future__ import annotations

from typing import Any

import jobs_core as core
from jobs_core import ClientConfig, Gather, HttpRequest, JobEvents, JobExpanded
from tests.core.replies import ok, response, txn_json

CONFIG = ClientConfig(http=True, retry=core.RetryPolicy(max_attempts=1))
EVERYTHING = {"events": True, "artifacts": True, "problems": True}


def _get_with_failing_expansions() -> JobExpanded:
    def answer(effect: Any) -> Any:
        if isinstance(effect, Gather):
            return [run(child) for child in effect.protocols]
        assert isinstance(effect, HttpRequest)
        if effect.target.endswith("/t1"):
            return ok(txn_json("t1", state="COMPLETED"))
        return response(500, {"message": "down"})

    def run(protocol: core.Protocol[Any]) -> Any:
        try:
            effect = next(protocol)
            for _ in range(100):
                effect = protocol.send(answer(effect))
            raise AssertionError("the protocol never ended")
        except core.JobError as exc:
            return exc
        except StopIteration as stop:
            return stop.value

    job = run(core.get(CONFIG, "Logic", "t1", include=EVERYTHING))
    assert isinstance(job, JobExpanded)
    return job


def test_failed_expansions_are_empty_values() -> None:
    job = _get_with_failing_expansions()
    assert (job.events, job.artifacts, job.problems) == (JobEvents([], None), {}, {})


def test_mutating_one_jobs_empty_expansions_does_not_change_the_next_ones() -> None:
    """They were module-level objects: one caller's edit showed up in every later failure."""
    first = _get_with_failing_expansions()
    assert first.events is not None
    assert first.artifacts is not None
    assert first.problems is not None
    first.events.events.append({"leaked": True})
    first.artifacts["leaked"] = True
    first.problems["leaked"] = True
    second = _get_with_failing_expansions()
    assert (second.events, second.artifacts, second.problems) == (JobEvents([], None), {}, {})
