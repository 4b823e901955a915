"""Emulator time (POSIX seconds) as the datetimes and ISO 8601 strings the APIs answer with."""

from __future__ import annotations

from datetime import datetime, timezone


def to_datetime(seconds: float) -> datetime:
    """Return `seconds` (POSIX) as an aware UTC datetime, truncated to milliseconds."""
    return datetime.fromtimestamp(round(seconds, 3), tz=timezone.utc)


def to_iso(seconds: float) -> str:
    """Return `seconds` (POSIX) as ISO 8601 UTC with milliseconds: `2026-01-01T00:00:00.000Z`."""
    return to_datetime(seconds).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
