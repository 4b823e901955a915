"""Every timestamp shape of the protocol, as aware UTC datetimes."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jobs_core._errors import JobServerError
from jobs_core._timestamps import parse_http_date, parse_timestamp

UTC = dt.timezone.utc
OFFSETS = st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23))
"""Fixed UTC offsets, as ISO text and SQL drivers carry them."""
NOON = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
EPOCH_S = 1714564800  # NOON


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("2024-05-01T12:00:00Z", NOON),
        ("2024-05-01T12:00:00z", NOON),
        ("2024-05-01t12:00:00", NOON),
        ("2024-05-01T12:00:00", NOON),
        ("2024-05-01T12:00", NOON),
        ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01 12:00:00", NOON),
        ("  2024-05-01 12:00:00  ", NOON),
        ("2024-05-01T12:00:00+00:00", NOON),
        ("2024-05-01T14:00:00+02:00", NOON),
        ("2024-05-01T14:00:00+0200", NOON),
        ("2024-05-01T14:00:00+02", NOON),
        ("2024-05-01T07:30:00-04:30", NOON),
        ("2024-05-01 12:00:00.000 +0000", NOON),
        ("2024-05-01 12:00:00 UTC", NOON),
        ("2024-05-01T12:00:00.5Z", NOON.replace(microsecond=500000)),
        ("2024-05-01T12:00:00,25Z", NOON.replace(microsecond=250000)),
        ("2024-05-01 12:00:00.123", NOON.replace(microsecond=123000)),
        ("2024-05-01T12:00:00.123456Z", NOON.replace(microsecond=123456)),
        ("2024-05-01T12:00:00.123456789Z", NOON.replace(microsecond=123456)),
        ("2024-05-01T12:00:00.1234567890123+00:00", NOON.replace(microsecond=123456)),
        (EPOCH_S, NOON),
        (EPOCH_S * 1000, NOON),
        (EPOCH_S * 1000 + 5, NOON.replace(microsecond=5000)),
        (float(EPOCH_S) + 0.25, NOON.replace(microsecond=250000)),
        (float(EPOCH_S * 1000), NOON),
        (decimal.Decimal(EPOCH_S), NOON),
        (decimal.Decimal("1714564800.000001"), NOON.replace(microsecond=1)),
        # TIMESTAMP_TZ as the Snowflake connector gives it unconverted: the zone index (minutes
        # east of UTC + 1440) says how it was written, not when it was.
        (f"{EPOCH_S}.000000000 1440", NOON),
        (f"{EPOCH_S}.123456789 1860", NOON.replace(microsecond=123456)),
        (f"{EPOCH_S} 0", NOON),
        (f"{EPOCH_S} 2880", NOON),
        ("10000000000.5 1440", dt.datetime(2286, 11, 20, 17, 46, 40, 500000, tzinfo=UTC)),
        (decimal.Decimal("1714564800000.001"), NOON.replace(microsecond=1)),
        (str(EPOCH_S), NOON),
        (f"{EPOCH_S}.5", NOON.replace(microsecond=500000)),
        (f" {EPOCH_S * 1000} ", NOON),
        ("1.7145648e9", NOON),
        (0, dt.datetime(1970, 1, 1, tzinfo=UTC)),
        (-86400, dt.datetime(1969, 12, 31, tzinfo=UTC)),
        (9_999_999_999, dt.datetime(2286, 11, 20, 17, 46, 39, tzinfo=UTC)),
        (10_000_000_000, dt.datetime(1970, 4, 26, 17, 46, 40, tzinfo=UTC)),
        (dt.datetime(2024, 5, 1, 12), NOON),
        (dt.datetime(2024, 5, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=-7))), NOON),
        (dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, tzinfo=UTC)),
    ],
)
def test_shapes(value: object, expected: dt.datetime | None) -> None:
    result = parse_timestamp(value)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-13-01",
        "2024-02-30T00:00:00Z",
        "2024-05-01T25:00:00Z",
        "2024-05-01T12:00:00+25:00",
        "05/01/2024",
        "nan",
        "inf",
        "1e999999",
        "0x10",
        f"{EPOCH_S} 2881",  # a zone index past +24 h
        f"{EPOCH_S}  1440",
        f"{EPOCH_S}. 1440",
        "1e3 1440",
        "999999999999999 1440",  # seconds past the last datetime
        True,
        False,
        [],
        {},
        b"2024-05-01",
        float("nan"),
        float("inf"),
        1e300,
        10**20,
        -(10**20),
        decimal.Decimal("NaN"),
        decimal.Decimal("sNaN"),
        decimal.Decimal("-Infinity"),
        decimal.Decimal("1E+999999"),
        # No UTC time exists for these: they raised OverflowError.
        "0001-01-01T00:00:00+02:00",
        "9999-12-31T23:59:59-01:00",
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ],
)
def test_unparseable_names_the_value(value: object) -> None:
    with pytest.raises(JobServerError, match="Unparseable timestamp") as info:
        parse_timestamp(value)
    assert repr(value)[:20] in str(info.value)


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)))
def test_iso_round_trip(value: dt.datetime) -> None:
    aware = value.replace(tzinfo=UTC)
    assert parse_timestamp(aware.isoformat()) == aware
    assert parse_timestamp(value.isoformat(sep=" ")) == aware
    assert parse_timestamp(value) == aware


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.sampled_from(["T", " "]),
    st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"]),
    st.booleans(),
)
@example(dt.datetime(2024, 5, 1), "T", "auto", True)  # a bare date: "2024-05-01"
def test_naive_text_is_read_as_utc(
    value: dt.datetime, separator: str, timespec: str, date_only: bool
) -> None:
    # Whatever text `fromisoformat` reads as a naive time is that time in UTC, on every Python.
    text = value.date().isoformat() if date_only else value.isoformat(separator, timespec)
    naive = dt.datetime.fromisoformat(text)
    assert parse_timestamp(text) == naive.replace(tzinfo=UTC)
    assert parse_timestamp(text).tzinfo is UTC  # type: ignore[union-attr]


@given(st.integers(min_value=-(6 * 10**10), max_value=10**14))
def test_epoch_numbers(value: int) -> None:
    result = parse_timestamp(value)
    assert result is not None
    expected_ms = value if value >= 10**10 else value * 1000
    assert result == dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=expected_ms)
    assert parse_timestamp(str(value)) == result
    assert parse_timestamp(decimal.Decimal(value)) == result


@given(
    st.one_of(
        st.text(max_size=40),
        st.integers(),
        st.floats(),
        st.decimals(),
        st.none(),
        st.booleans(),
        # An aware time at either end of the calendar, as a datetime or text, has no UTC time.
        st.datetimes(timezones=st.none() | st.just(UTC) | st.builds(dt.timezone, OFFSETS)),
        st.datetimes(timezones=st.builds(dt.timezone, OFFSETS)).map(dt.datetime.isoformat),
        st.dates(),
    )
)
def test_anything_parses_or_raises_job_server_error(value: object) -> None:
    try:
        result = parse_timestamp(value)
    except JobServerError:
        return
    assert result is None or result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wed, 01 May 2024 12:00:00 GMT", NOON),
        ("Wednesday, 01-May-24 12:00:00 GMT", NOON),
        ("Wed May  1 12:00:00 2024", NOON),
        ("Thursday, 01-Jan-70 00:00:00 GMT", dt.datetime(1970, 1, 1, tzinfo=UTC)),
        ("Wed, 31 Feb 2024 12:00:00 GMT", None),
        ("Wed, 01 Foo 2024 12:00:00 GMT", None),
        ("Wed, 01 May 2024 12:00:00 +0000", None),
        ("soon", None),
    ],
)
def test_http_dates(value: str, expected: dt.datetime | None) -> None:
    assert parse_http_date(value) == expected
