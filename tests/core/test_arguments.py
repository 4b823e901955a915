"""Every argument rule of docs/protocol.md: the documented error, raised before any effect.

Protocols check their arguments when they are built, so a bad call never even creates the
generator that would emit effects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
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
from jobs_core import _http_dialect as http
from jobs_core._errors import excerpt
from tests.core.replies import HTTP, SQL

Call = Callable[[], Any]


def repr_id(value: object) -> str:
    """A test id for `value` that stays short (an int of 5,000 digits has no repr)."""
    return excerpt(value)[:20]


async def _on_poll(job: object) -> None:
    """An async callback: the protocol would call it and never await what it returns."""


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
    "wait: on_poll a coroutine function": lambda: core.wait(HTTP, "Logic", "t", on_poll=_on_poll),  # type: ignore[arg-type]
    "create_ready: on_poll a coroutine function": lambda: core.create_ready(
        HTTP,
        "Logic",
        "e",
        {"database": "d", "query": "q"},
        on_poll=_on_poll,  # type: ignore[arg-type]
    ),
    "handle wait: on_poll a coroutine function": lambda: core.OperationHandle(
        HTTP, core.OperationRef(id="t", reasoner_type="Logic")
    ).wait(on_poll=_on_poll),  # type: ignore[arg-type]
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


# --- the times of every call that waits --------------------------------------------------------

WAITING_CALLS: dict[str, Callable[..., Any]] = {
    "wait": lambda **times: core.wait(HTTP, "Logic", "t", **times),
    "create_ready": lambda **times: core.create_ready(HTTP, "Predictive", "w", {}, **times),
    "wait_all": lambda **times: core.wait_all(HTTP, [("Logic", "t")], **times),
    "as_completed": lambda **times: core.Completions.open(HTTP, [("Logic", "t")], **times),
    "handle wait": lambda **times: core.OperationHandle(
        HTTP, core.OperationRef(id="t", reasoner_type="Logic")
    ).wait(**times),
}
BAD_TIMES: list[object] = [
    0, -1, -0.5, -math.inf, math.nan, True, False, "5", None, [1], -(10**5000),
]  # fmt: skip
BAD_POLL_INTERVALS: list[object] = [*BAD_TIMES, 20, 20.0, 1e9, math.inf, 10**5000]


@pytest.mark.parametrize("value", BAD_TIMES, ids=repr_id)
@pytest.mark.parametrize("call", sorted(WAITING_CALLS))
def test_a_bad_timeout_fails_before_any_effect_with_a_short_message(
    call: str, value: object
) -> None:
    with pytest.raises(JobInvalidRequestError, match="timeout_s") as raised:
        WAITING_CALLS[call](timeout_s=value)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("value", BAD_POLL_INTERVALS, ids=repr_id)
@pytest.mark.parametrize("call", [*sorted(WAITING_CALLS), "events pager"])
def test_a_bad_poll_interval_fails_before_any_effect_with_a_short_message(
    call: str, value: object
) -> None:
    """Every poll interval means the same: a number of seconds in (0, 20)."""
    calls: dict[str, Callable[..., Any]] = {
        **WAITING_CALLS,
        "events pager": partial(core.EventsPager.open, HTTP, "Logic", "t"),
    }
    with pytest.raises(JobInvalidRequestError, match="poll_interval_s") as raised:
        calls[call](poll_interval_s=value)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("value", [1e300, math.inf, 10**400, 10**5000], ids=repr_id)
@pytest.mark.parametrize("call", sorted(WAITING_CALLS))
def test_a_huge_timeout_is_no_deadline_to_speak_of(call: str, value: object) -> None:
    """An int too large for a float is an infinite timeout, not an OverflowError."""
    assert WAITING_CALLS[call](timeout_s=value) is not None


def test_a_bad_payload_is_named_by_type_never_quoted() -> None:
    """A payload may hold credentials: the message names types only."""
    for payload in ({None: "hunter2"}, ["hunter2"], "hunter2"):
        with pytest.raises(JobInvalidRequestError) as raised:
            core.create(HTTP, "Predictive", "w", payload)  # type: ignore[arg-type]
        assert "hunter2" not in str(raised.value)


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


# --- ids and stream names that would be read as dot segments --------------------------------

DOT_CALLS: dict[str, Callable[[ClientConfig, str], Any]] = {
    "get": lambda config, value: core.get(config, "Prescriptive", value),
    "get_operation": lambda config, value: core.get_operation(config, "Logic", value),
    "wait": lambda config, value: core.wait(config, "Logic", value),
    "cancel": lambda config, value: core.cancel(config, "Predictive", value),
    "get_events": lambda config, value: core.get_events(config, "Logic", value),
    "events stream": lambda config, value: core.get_events(
        config, "Prescriptive", "j1", stream_name=value
    ),
    "events pager": lambda config, value: core.EventsPager.open(config, "Logic", value),
    "events pager stream": lambda config, value: core.EventsPager.open(
        config, "Logic", "t1", stream_name=value
    ),
    "list by id": lambda config, value: core.list_jobs(config, "Logic", job_id=value),
    "operation reference": lambda config, value: core.OperationRef.from_dict(
        {"id": value, "reasoner_type": "Logic"}
    ),
    "wait_all pair": lambda config, value: core.wait_all(config, [("Logic", value)]),
    "as_completed pair": lambda config, value: core.Completions.open(config, [("ML", value)]),
    "wait_all reference": lambda config, value: core.wait_all(
        config, [core.OperationRef(id=value, reasoner_type="Logic")]
    ),
    "as_completed handle": lambda config, value: core.Completions.open(
        config, [core.OperationHandle(config, core.OperationRef(id=value, reasoner_type="ML"))]
    ),
}


@pytest.mark.parametrize("value", [".", "..", " .. "])
@pytest.mark.parametrize("call", sorted(DOT_CALLS))
@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
def test_dot_segment_ids_and_streams_are_refused_before_any_effect(
    config: ClientConfig, call: str, value: str
) -> None:
    """``cancel("Prescriptive", "..")`` used to POST /v1alpha1/jobs/SOLVER/../cancel."""
    with pytest.raises(JobInvalidRequestError, match="relative path segment"):
        DOT_CALLS[call](config, value)


@pytest.mark.parametrize("value", ["...", ".a", "a..b", "%2E%2E", "a/b"])
def test_ids_that_merely_contain_dots_are_one_encoded_segment(value: str) -> None:
    request = http.build_get(core.ReasonerType.LOGIC, value)
    assert request.target.count("/") == 3  # /v1alpha1/transactions/<one segment>


def test_an_id_the_server_sent_is_never_sent_back_as_a_dot_segment() -> None:
    """The builders refuse too: an id from a create answer reaches them without argument checks.
    A lone surrogate (which JSON may escape) raised UnicodeEncodeError."""
    for value in (".", "..", "job-\udc80"):
        with pytest.raises(JobInvalidRequestError):
            http.build_cancel(core.ReasonerType.PRESCRIPTIVE, value)


# --- the SQL application name is an identifier, since statements paste it in -----------------

ACCEPTED_APPS = [
    "RELATIONALAI",
    "rai_app",
    "MY_DB.RAI",
    '"my app"',
    '"odd ""quoted"" name".x',
    "A$1",
]
REFUSED_APPS = [
    "A.api.GET_JOB(?, ?); DROP TABLE users; --",
    "app name",
    " RAI",
    "RAI;",
    "1RAI",
    "RAI.",
    ".RAI",
    '"unterminated',
    '"bad"quote"',
    '"line\nbreak"',
    "RAI--",
    "",
]


@pytest.mark.parametrize("app", ACCEPTED_APPS)
def test_identifiers_are_accepted_as_application_names(app: str) -> None:
    assert ClientConfig(sql=True, app=app).sql_namespace == f"{app}.api"


@pytest.mark.parametrize("app", REFUSED_APPS)
def test_anything_but_an_identifier_is_refused_as_application_name(app: str) -> None:
    with pytest.raises(JobConfigurationError):
        ClientConfig(sql=True, app=app)


@pytest.mark.parametrize("schema", ["api; DROP TABLE x", "a.b", ""])
def test_the_schema_must_be_one_identifier(schema: str) -> None:
    with pytest.raises(JobConfigurationError, match="schema"):
        ClientConfig(sql=True, app="APP", schema=schema)
