"""Every argument of every call, given values no rule names: accepted, or refused before any
effect with `JobInvalidRequestError` and a message of bounded size; never another exception.

`test_arguments.py` checks each documented rule on a sample; this walks the class: each
argument slot of each call against the same hostile values (ints too long for `repr` or a
float, text UTF-8 cannot carry, values of megabytes, objects of no expected type).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Generator
from typing import Any

import pytest

import jobs_core as core
from jobs_core import ClientConfig, JobInvalidRequestError
from tests.core.replies import HTTP, SQL

Slot = Callable[[Any], Any]
"""A call with one argument replaced by the value given."""


def _key(value: object) -> Any:
    """`value` as a dict key: a list as the tuple of its items."""
    return tuple(value) if isinstance(value, list) else value


SLOTS: dict[str, Slot] = {
    "get reasoner_type": lambda v: core.get(HTTP, v, "j1"),
    "get job_id": lambda v: core.get(HTTP, "Logic", v),
    "get include": lambda v: core.get(HTTP, "Logic", "j1", include=v),
    "get include key": lambda v: core.get(HTTP, "Logic", "j1", include={_key(v): True}),
    "get include value": lambda v: core.get(HTTP, "Logic", "j1", include={"raw": v}),
    "create reasoner_type": lambda v: core.create(HTTP, v, "w", {}),
    "create reasoner_name": lambda v: core.create(HTTP, "Predictive", v, {}),
    "create payload": lambda v: core.create(HTTP, "Predictive", "w", v),
    "create payload key": lambda v: core.create(HTTP, "Predictive", "w", {_key(v): 1}),
    "create timeout_mins": lambda v: core.create(HTTP, "Predictive", "w", {}, timeout_mins=v),
    "create over SQL: Logic payload flag": lambda v: core.create(
        SQL, "Logic", "e", {"dbname": "d", "query": "q", "readonly": v}
    ),
    "create_ready timeout_s": lambda v: core.create_ready(HTTP, "ML", "w", {}, timeout_s=v),
    "create_ready poll_interval_s": lambda v: core.create_ready(
        HTTP, "ML", "w", {}, poll_interval_s=v
    ),
    "list reasoner_type": lambda v: core.list_jobs(HTTP, v),
    "list job_id": lambda v: core.list_jobs(HTTP, job_id=v),
    "list state": lambda v: core.list_jobs(HTTP, state=v),
    "list name": lambda v: core.list_jobs(HTTP, name=v),
    "list created_by": lambda v: core.list_jobs(HTTP, created_by=v),
    "list only_active": lambda v: core.list_jobs(HTTP, only_active=v),
    "list all_users": lambda v: core.list_jobs(HTTP, all_users=v),
    "list limit": lambda v: core.list_jobs(HTTP, limit=v),
    "list offset": lambda v: core.list_jobs(HTTP, offset=v),
    "get_events job_id": lambda v: core.get_events(HTTP, "Logic", v),
    "get_events continuation_token": lambda v: core.get_events(HTTP, "Logic", "t", v),
    "get_events stream_name": lambda v: core.get_events(HTTP, "Logic", "t", stream_name=v),
    "get_events over SQL stream_name": lambda v: core.get_events(SQL, "Logic", "t", stream_name=v),
    "iter_events continuation_token": lambda v: core.EventsPager.open(HTTP, "Logic", "t", v),
    "iter_events poll_interval_s": lambda v: core.EventsPager.open(
        HTTP, "Logic", "t", poll_interval_s=v
    ),
    "cancel job_id": lambda v: core.cancel(HTTP, "Prescriptive", v),
    "cancel all_users": lambda v: core.cancel(SQL, "Logic", "t", all_users=v),
    "wait timeout_s": lambda v: core.wait(HTTP, "Logic", "t", timeout_s=v),
    "wait poll_interval_s": lambda v: core.wait(HTTP, "Logic", "t", poll_interval_s=v),
    "wait on_poll": lambda v: core.wait(HTTP, "Logic", "t", on_poll=v),
    "get_operation job_id": lambda v: core.get_operation(HTTP, "Logic", v),
    "wait_all ops": lambda v: core.wait_all(HTTP, v),
    "wait_all pair": lambda v: core.wait_all(HTTP, [("Logic", v)]),
    "as_completed timeout_s": lambda v: core.Completions.open(HTTP, [], timeout_s=v),
    "operation reference": lambda v: core.OperationRef.from_dict(
        {"id": v, "reasoner_type": "Logic"}
    ),
}

HUGE = 10**5000
"""Past `sys.get_int_max_str_digits()`: `repr` of it raises ValueError."""
LONE_SURROGATE = "job-\udc80"
"""What ``surrogateescape`` makes of a byte that is not UTF-8: no URL, header or JSON holds it."""

HOSTILE: dict[str, object] = {
    "huge int": HUGE,
    "huge negative int": -HUGE,
    "huge int in a list": [HUGE],
    "lone surrogate": LONE_SURROGATE,
    "megabyte of text": "x" * 1_000_000,
    "megabyte of bytes": b"\x00" * 1_000_000,
    "megabyte list": [0] * 1_000_000,
    "nan": math.nan,
    "object": object(),
}

LONGEST_MESSAGE = 1000


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("slot", SLOTS.values(), ids=SLOTS.keys())
def test_any_value_is_accepted_or_refused_with_a_short_invalid_request_error(
    slot: Slot, value: object
) -> None:
    refused: JobInvalidRequestError | None = None
    try:
        built = slot(value)
    except JobInvalidRequestError as exc:
        refused = exc
    else:
        if isinstance(built, Generator):
            built.close()
    assert refused is None or len(str(refused)) <= LONGEST_MESSAGE


TEXT_SLOTS = [
    "get job_id",
    "create reasoner_name",
    "list job_id",
    "list name",
    "list created_by",
    "get_events job_id",
    "get_events continuation_token",
    "get_events stream_name",
    "iter_events continuation_token",
    "cancel job_id",
    "get_operation job_id",
    "wait_all pair",
    "operation reference",
]


@pytest.mark.parametrize("slot", TEXT_SLOTS)
def test_text_utf8_cannot_carry_is_refused_before_any_effect(slot: str) -> None:
    """Over HTTP a lone surrogate in an id raised UnicodeEncodeError while building the URL."""
    with pytest.raises(JobInvalidRequestError, match="lone surrogate at index 4"):
        SLOTS[slot](LONE_SURROGATE)


@pytest.mark.parametrize("slot", ["wait timeout_s", "create_ready timeout_s"])
def test_a_timeout_too_long_for_a_float_waits_without_end(slot: str) -> None:
    """``timeout_s=10**400`` raised OverflowError (int too large to convert to float)."""
    protocol = SLOTS[slot](10**400)
    assert isinstance(next(protocol), core.Now)
    protocol.close()


@pytest.mark.parametrize(
    "payload", [{1: "s3cret-password"}, ["s3cret-password"], "s3cret-password"]
)
def test_a_refused_payload_is_never_quoted(payload: object) -> None:
    with pytest.raises(JobInvalidRequestError, match="payload") as refused:
        core.create(HTTP, "Predictive", "w", payload)  # type: ignore[arg-type]
    assert "s3cret" not in str(refused.value)


WIRE_INTS: dict[str, Callable[[ClientConfig, int], Any]] = {
    "list limit": lambda config, v: core.list_jobs(config, "ML", limit=v),
    "list offset": lambda config, v: core.list_jobs(config, "ML", offset=v, limit=1),
    "create timeout_mins": lambda config, v: core.create(config, "ML", "w", {}, timeout_mins=v),
    "create_ready timeout_mins": lambda config, v: core.create_ready(
        config, "ML", "w", {}, timeout_mins=v
    ),
}


@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
@pytest.mark.parametrize("slot", WIRE_INTS)
def test_ints_past_64_bits_are_refused_before_any_effect(config: ClientConfig, slot: str) -> None:
    """Over SQL they failed binding, as JobServerError (ValueError past 4300 digits); over HTTP a
    timeout_mins past 4300 digits was a 'payload must be JSON-serialisable' error, and 2**64 was
    sent to a service that holds 64-bit ints."""
    for value in (2**63, 2**64, 10**5000):
        with pytest.raises(JobInvalidRequestError, match=str(2**63 - 1)):
            WIRE_INTS[slot](config, value)
    protocol = WIRE_INTS[slot](config, sys.maxsize)  # the largest one the wire carries
    assert isinstance(next(protocol), core.Effect)
    protocol.close()


def test_a_logic_payload_timeout_past_64_bits_is_refused_over_sql() -> None:
    payload = {"dbname": "d", "query": "q", "timeout_mins": 2**64}
    with pytest.raises(JobInvalidRequestError, match="64-bit"):
        next(core.create(SQL, "Logic", "e", payload))
