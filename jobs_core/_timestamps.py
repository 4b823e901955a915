"""Timestamps in every shape the backends send them, as aware UTC datetimes."""

from __future__ import annotations

import datetime as dt
import decimal
import re

from ._errors import JobServerError

_UTC = dt.timezone.utc
# Bound once: the fast path below runs twice per job of a list, and each module and class
# attribute lookup it saves is a fifth of its cost.
_from_iso = dt.datetime.fromisoformat
_from_stamp = dt.datetime.fromtimestamp
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_MS_THRESHOLD = 10_000_000_000
"""Epoch numbers at or above this are milliseconds (1e10 s would be the year 2286)."""
_EPOCH_LIMIT = 10**15
"""Beyond this many milliseconds (about year 33,000) no datetime exists; checked first so that a
huge Decimal is never turned into a huge int."""
_FAST_MS_LIMIT = 2**42
"""Epoch milliseconds below this (the year 2109) are what the fast path takes: their seconds, as
the nearest float, are within a quarter of a microsecond of the exact value, which
`datetime.fromtimestamp` rounds to the nearest microsecond, so the result is exact."""

# `datetime.fromisoformat` is the fast path; before Python 3.11 it rejects `Z`, and it never takes
# a space before the offset or a `UTC` suffix, so this regex parses whatever it refuses, and every
# Python version accepts the same shapes.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?"
    r"\s*(?:[Zz]|UTC|([+-])(\d{2}):?(\d{2})?)?"
)
# Every regex here must run in time linear in its input (a server, a SQL row or a cassette can
# send a field of any length): no two adjacent parts may match the same characters, or a failed
# match retries every split between them (``\d+\.?\d*`` was quadratic on digits + one stray char).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# TIMESTAMP_TZ as the Snowflake connector hands it over when told not to convert values: UTC epoch
# seconds with their fraction, a space, and the zone as minutes east of UTC plus 1440.
_EPOCH_AND_ZONE = re.compile(r"([+-]?\d+(?:\.\d+)?) (\d{1,4})")
_ZONE_INDICES = range(2881)
"""1440 ± 24 hours of minutes: every zone index the connector writes."""
# RFC 9110 HTTP-date: IMF-fixdate, RFC 850 and asctime forms, all in GMT. Parsed here rather than
# with `email.utils`, whose import pulls in `socket`.
_HTTP_DATE = re.compile(
    r"[A-Za-z]+,?\s+(\d{1,2})[\s-]([A-Za-z]{3})[\s-](\d{2}|\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT"
    r"|[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def parse_timestamp(value: object) -> dt.datetime | None:
    """Return `value` as an aware UTC datetime, or None for None and blank strings.

    Accepts ISO 8601 (with ``Z``, an offset or neither; a ``T`` or a space between date and time;
    a fraction of any length, truncated to microseconds), a date alone (midnight), epoch seconds or
    milliseconds as int, float, Decimal or numeric string (values >= 1e10 are milliseconds),
    datetimes or dates from a SQL driver, and the Snowflake connector's unconverted TIMESTAMP_TZ
    text (epoch seconds, a space, the zone index). Naive values are UTC.

    Raises:
        JobServerError: `value` is none of these, or names an impossible or out-of-range time.
    """
    if value is None:
        return None
    # Fast paths for what the service sends most (UTC ISO text, epoch milliseconds): the same
    # first steps as the full parsers below, without their generality.
    if type(value) is str and value[4:5] == "-" and value[7:8] == "-":
        try:
            parsed = _from_iso(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is _UTC:
                return parsed
            if parsed.tzinfo is None:
                return _naive_text_in_utc(value, parsed)
    elif type(value) is int and _MS_THRESHOLD <= value < _FAST_MS_LIMIT:
        return _from_stamp(value / 1000, _UTC)
    if isinstance(value, dt.datetime):
        return _in_utc(value) if value.tzinfo is None else _aware_in_utc(value, value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return _from_epoch(value, value)
    raise JobServerError(f"Unparseable timestamp {value!r}")


def _naive_text_in_utc(text: str, naive: dt.datetime) -> dt.datetime:
    """Return `naive`, which `datetime.fromisoformat` read from `text`, as the aware UTC time.

    `text` is read again with ``+00:00`` appended, a third of the cost of building the datetime
    anew (SQL rows and transactions send naive times). Only a result in UTC is taken: a bare
    date with an offset after it reads as a naive time on every Python version.
    """
    try:
        aware = _from_iso(text + "+00:00")
    except ValueError:
        return _in_utc(naive)
    return aware if aware.tzinfo is _UTC else _in_utc(naive)


def _in_utc(naive: dt.datetime) -> dt.datetime:
    """Return the naive UTC time `naive` as an aware one (built anew: `replace(tzinfo=...)` costs
    twice as much, and naive times arrive in every SQL row; UTC has no repeated hour to `fold`)."""
    return dt.datetime(
        naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second,
        naive.microsecond, _UTC,
    )  # fmt: skip


def _aware_in_utc(value: dt.datetime, original: object) -> dt.datetime:
    """Return the aware `value` in UTC.

    Raises:
        JobServerError: naming `original`, when no UTC time exists for it (year 1 east of UTC,
            9999 west of it: `astimezone` raised OverflowError out of get and list).
    """
    try:
        return value.astimezone(_UTC)
    except OverflowError as exc:
        raise JobServerError(f"Unparseable timestamp {original!r}: {exc}") from exc


def _parse_text(value: str) -> dt.datetime | None:
    text = value.strip()
    if not text:
        return None
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return _in_utc(parsed) if parsed.tzinfo is None else _aware_in_utc(parsed, value)
    match = _ISO.fullmatch(text)
    if match is not None:
        return _from_match(match, value)
    if _NUMBER.fullmatch(text):
        return _from_epoch(decimal.Decimal(text), value)
    zoned = _EPOCH_AND_ZONE.fullmatch(text)
    if zoned is not None and int(zoned.group(2)) in _ZONE_INDICES:
        # The instant is the epoch part; the zone only says how it was written. Always seconds,
        # however large: the connector's own unit.
        return _from_epoch(decimal.Decimal(zoned.group(1)), value, scale=1_000_000)
    raise JobServerError(f"Unparseable timestamp {value!r}")


def _from_match(match: re.Match[str], value: str) -> dt.datetime:
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    tz = _UTC
    try:
        if sign is not None:
            offset = dt.timedelta(hours=int(off_h), minutes=int(off_m or 0))
            if offset:
                tz = dt.timezone(-offset if sign == "-" else offset)
        parsed = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int(fraction[:6].ljust(6, "0")) if fraction else 0,
            tzinfo=tz,
        )
        return parsed if tz is _UTC else parsed.astimezone(_UTC)
    except (ValueError, OverflowError) as exc:
        raise JobServerError(f"Unparseable timestamp {value!r}: {exc}") from exc


def _from_epoch(
    value: int | float | decimal.Decimal, original: object, *, scale: int | None = None
) -> dt.datetime:
    """Return epoch `value` (seconds, or milliseconds from `_MS_THRESHOLD` on, unless `scale`
    says how many microseconds one unit of a Decimal is) as an aware UTC datetime.

    Raises:
        JobServerError: `value` is not finite or names no datetime (`original` is quoted).
    """
    # Decimal keeps numeric strings and SQL NUMBERs exact to the microsecond; floats go through
    # timedelta, which rounds to the nearest microsecond.
    try:
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise ValueError("not a finite number")
        if not -_EPOCH_LIMIT < value < _EPOCH_LIMIT:
            raise ValueError("out of range")
        if isinstance(value, decimal.Decimal):
            if scale is None:
                scale = 1_000 if value >= _MS_THRESHOLD else 1_000_000
            return _EPOCH + dt.timedelta(microseconds=int(value * scale))
        if value >= _MS_THRESHOLD:
            return _EPOCH + dt.timedelta(milliseconds=value)
        return _EPOCH + dt.timedelta(seconds=value)
    except (ValueError, OverflowError, decimal.InvalidOperation) as exc:
        raise JobServerError(f"Unparseable timestamp {original!r}: {exc}") from exc


def parse_http_date(value: str) -> dt.datetime | None:
    """Return an HTTP-date (as in `Date` and `Retry-After`) as an aware UTC datetime, or None.

    None when `value` is in none of the three forms of RFC 9110 or names an impossible time. The
    two-digit years of the obsolete RFC 850 form are read as POSIX does (68 and below: 20YY), since
    the RFC's "most recent such year" rule would need a clock.
    """
    match = _HTTP_DATE.fullmatch(value.strip())
    if match is None:
        return None
    if match.group(1) is not None:
        day, month, year, hour, minute, second = match.group(1, 2, 3, 4, 5, 6)
    else:
        month, day, hour, minute, second, year = match.group(7, 8, 9, 10, 11, 12)
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    full_year = int(year) if len(year) == 4 else int(year) + (2000 if int(year) <= 68 else 1900)
    try:
        return dt.datetime(
            full_year, number, int(day), int(hour), int(minute), int(second), tzinfo=_UTC
        )
    except ValueError:
        return None
