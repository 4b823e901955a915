"""The parsing fast paths agree with the full parsers they stand in front of.

A record the fast path takes equals the one the full cattrs parser makes of the same object, and
an object it declines gets the full parser's record or error; a timestamp the fast path takes is
the one the full text or epoch parser gives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobs_core import _records as records
from jobs_core import _timestamps as timestamps
from jobs_core._errors import JobServerError
from jobs_core._reasoners import ReasonerType
from tests.core.record_shapes import RECORDS, TIMESTAMPS


def full_parse(kind: ReasonerType, value: dict[str, Any]) -> object:
    """Returns the full parser's record, or its error message."""
    with mock.patch.object(records, "_fast_record", return_value=None):
        try:
            return records.record_from_http(kind, value)
        except JobServerError as exc:
            return f"error: {exc}"


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(list(ReasonerType)), value=RECORDS)
def test_a_record_parses_the_same_with_or_without_the_fast_path(
    kind: ReasonerType, value: dict[str, Any]
) -> None:
    expected = full_parse(kind, value)
    fast = records._fast_record(kind, value)
    if fast is not None:
        assert fast == expected
        assert fast.raw is value
    try:
        got: object = records.record_from_http(kind, value)
    except JobServerError as exc:
        got = f"error: {exc}"
    assert got == expected


def test_the_fast_path_takes_the_shape_the_service_sends() -> None:
    """Not vacuous: a record as the service sends it does go the fast way."""
    value = {
        "id": "job-1",
        "state": "RUNNING",
        "type": "ML",
        "worker_name": "forecaster",
        "created_by": "ALICE",
        "created_on": "2026-01-01T00:00:00.123Z",
        "duration": 5,
        "payload": '{"a": 1}',
    }
    fast = records._fast_record(ReasonerType.PREDICTIVE, value)
    assert fast is not None
    assert fast == full_parse(ReasonerType.PREDICTIVE, value)
    assert fast.payload == {"a": 1}


def slow_timestamp(value: str | int) -> object:
    """Returns what the full text or epoch parser makes of `value`, or its error message."""
    try:
        if isinstance(value, str):
            return timestamps._parse_text(value)
        return timestamps._from_epoch(value, value)
    except JobServerError as exc:
        return f"error: {exc}"


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(TIMESTAMPS.filter(lambda v: v is not None), st.integers(10**10, 10**16)))
@example(value=253_402_300_799_999)  # 9999-12-31T23:59:59.999Z, the last millisecond there is
@example(value=253_402_300_800_000)  # the year 10000: the full parser's out-of-range error
@example(value=2**42 - 1)  # the last value the float fast path takes
@example(value=2**42)
def test_a_timestamp_parses_the_same_with_or_without_the_fast_path(value: str | int) -> None:
    try:
        got: object = timestamps.parse_timestamp(value)
    except JobServerError as exc:
        got = f"error: {exc}"
    assert got == slow_timestamp(value)
    if isinstance(got, dt.datetime):
        assert got.tzinfo is dt.timezone.utc


def test_epoch_milliseconds_take_the_exact_value_on_the_float_fast_path() -> None:
    """The fast path divides by 1000 in floating point; every millisecond it takes, at the
    bottom, the top and around now, must still land on the exact microsecond."""
    starts = [10**10, 1_714_565_405_000, timestamps._FAST_MS_LIMIT - 20_000]
    for start in starts:
        for value in range(start, start + 20_000):
            assert timestamps.parse_timestamp(value) == slow_timestamp(value), value
