"""Every argument rule of PROTOCOL.md: the documented error, raised before any effect.

Protocols check their arguments when they are built, so a bad call never even creates the
generator that would emit effects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    ClientConfig,
    JobConfigurationError,
    JobInvalidRequestError,
    PollPolicy,
    RetryPolicy,
)
from tests.core.replies import HTTP, SQL

Call = Callable[[], Any]

INVALID: dict[str, Call] = {
    "unknown reasoner type": lambda: core.get(HTTP, "Descriptive", "j1"),
    "reasoner type not a string": lambda: core.get(HTTP, 7, "j1"),  # type: ignore[arg-type]
    "blank reasoner type": lambda: core.get(HTTP, "  ", "j1"),
    "blank job id": lambda: core.get(HTTP, "Logic", " "),
    "job id not a string": lambda: core.get(HTTP, "Logic", None),  # type: ignore[arg-type]
    "include not a mapping": lambda: core.get(HTTP, "Logic", "j1", include=["raw"]),  # type: ignore[arg-type]
    "include unknown key": lambda: core.get(HTTP, "Logic", "j1", include={"everything": True}),
    "include non-string key": lambda: core.get(HTTP, "Logic", "j1", include={1: True}),  # type: ignore[dict-item]
    "include non-bool value": lambda: core.get(HTTP, "Logic", "j1", include={"raw": 1}),
    "include artifacts on a job": lambda: core.get(
        HTTP, "Predictive", "j1", include={"artifacts": True}
    ),
    "include problems on a job": lambda: core.get(HTTP, "ML", "j1", include={"problems": True}),
    "create: blank reasoner name": lambda: core.create(HTTP, "Predictive", "", {}),
    "create: payload not a dict": lambda: core.create(HTTP, "Predictive", "w", "{}"),  # type: ignore[arg-type]
    "create: timeout_mins zero": lambda: core.create(HTTP, "Predictive", "w", {}, timeout_mins=0),
    "create: timeout_mins not int": lambda: core.create(
        HTTP,
        "Predictive",
        "w",
        {},
        timeout_mins=1.5,  # type: ignore[arg-type]
    ),
    "create over SQL: Logic payload without database": lambda: core.create(
        SQL, "Logic", "e", {"query": "q"}
    ),
    "create over SQL: Logic payload without code": lambda: core.create(
        SQL, "Logic", "e", {"database": "d"}
    ),
    "create_ready: timeout_s zero": lambda: core.create_ready(
        HTTP, "Predictive", "w", {}, timeout_s=0
    ),
    "create_ready: poll too long": lambda: core.create_ready(
        HTTP, "Predictive", "w", {}, poll_interval_s=20
    ),
    "list: unknown type": lambda: core.list_jobs(HTTP, "Jobs"),
    "list: negative offset": lambda: core.list_jobs(HTTP, offset=-1),
    "list: limit not an int": lambda: core.list_jobs(HTTP, limit="10"),  # type: ignore[arg-type]
    "list: unknown state": lambda: core.list_jobs(HTTP, state="RUNING"),
    "list: only_active not a bool": lambda: core.list_jobs(HTTP, only_active="yes"),  # type: ignore[arg-type]
    "list: all_users not a bool": lambda: core.list_jobs(HTTP, all_users=1),  # type: ignore[arg-type]
    "list: blank name": lambda: core.list_jobs(HTTP, name=""),
    "list all types: artifacts": lambda: core.list_jobs(HTTP, include={"artifacts": True}),
    "events: token not a string": lambda: core.get_events(HTTP, "Logic", "t", None),  # type: ignore[arg-type]
    "events: stream not a string": lambda: core.get_events(HTTP, "Logic", "t", stream_name=3),  # type: ignore[arg-type]
    "events over SQL: another stream": lambda: core.get_events(
        SQL, "Logic", "t", stream_name="debug"
    ),
    "cancel: all_users for a job": lambda: core.cancel(HTTP, "Prescriptive", "j1", all_users=True),
    "cancel: all_users not a bool": lambda: core.cancel(HTTP, "Logic", "j1", all_users="no"),  # type: ignore[arg-type]
    "wait: timeout zero": lambda: core.wait(HTTP, "Logic", "t", timeout_s=0),
    "wait: timeout negative": lambda: core.wait(HTTP, "Logic", "t", timeout_s=-1),
    "wait: timeout a bool": lambda: core.wait(HTTP, "Logic", "t", timeout_s=True),
    "wait: poll zero": lambda: core.wait(HTTP, "Logic", "t", poll_interval_s=0),
    "wait: poll of 20 s": lambda: core.wait(HTTP, "Logic", "t", poll_interval_s=20),
    "wait: poll not a number": lambda: core.wait(HTTP, "Logic", "t", poll_interval_s="1"),  # type: ignore[arg-type]
    "wait: on_poll not callable": lambda: core.wait(HTTP, "Logic", "t", on_poll=3),  # type: ignore[arg-type]
    "operation: blank id": lambda: core.get_operation(HTTP, "Logic", ""),
    "pager: bad follow": lambda: core.EventsPager.open(HTTP, "Logic", "t", follow="y"),  # type: ignore[arg-type]
    "pager over SQL: another stream": lambda: core.EventsPager.open(
        SQL, "Logic", "t", stream_name="x"
    ),
}


@pytest.mark.parametrize("call", INVALID.values(), ids=INVALID.keys())
def test_invalid_arguments_fail_before_any_effect(call: Call) -> None:
    with pytest.raises(JobInvalidRequestError):
        call()


def test_reasoner_type_error_names_the_choices() -> None:
    with pytest.raises(
        JobInvalidRequestError, match="Expected: Logic, Prescriptive, or Predictive"
    ):
        core.get(HTTP, "Batch", "j1")


@pytest.mark.parametrize(
    "spelling", ["Logic", "LOGIC", "logic", " Prescriptive ", "SOLVER", "ml", "PREDICTIVE"]
)
def test_every_spelling_builds_a_protocol(spelling: str) -> None:
    assert core.get(HTTP, spelling, "j1") is not None


def test_limit_zero_or_less_is_an_empty_list_without_effects() -> None:
    for limit in (0, -3):
        protocol = core.list_jobs(HTTP, limit=limit)
        with pytest.raises(StopIteration) as stopped:
            next(protocol)
        assert stopped.value.value == []


CONFIG_ERRORS: dict[str, Call] = {
    "no backend": lambda: ClientConfig(),
    "SQL without app": lambda: ClientConfig(sql=True),
    "SQL with a blank app": lambda: ClientConfig(sql=True, app=" "),
    "retry with no attempt": lambda: RetryPolicy(max_attempts=0),
    "retry with jitter above 1": lambda: RetryPolicy(jitter=2),
    "polling factor below 1": lambda: PollPolicy(factor=0.5),
}


def test_logic_cancel_for_all_users_needs_the_sql_backend() -> None:
    with pytest.raises(core.JobCapabilityError, match="CANCEL_TRANSACTION"):
        core.cancel(HTTP, "Logic", "t", all_users=True)


@pytest.mark.parametrize("call", CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_configuration_errors(call: Call) -> None:
    with pytest.raises(JobConfigurationError):
        call()


def test_create_does_not_change_the_callers_payload() -> None:
    payload = {"abort_detached": True, "x": 1}
    core.create(HTTP, "Predictive", "w", payload)
    assert payload == {"abort_detached": True, "x": 1}
