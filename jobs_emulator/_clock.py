"""The emulator's clocks: real time, or a manual clock that only moves when a test advances it.

Every clock answers `now()` in POSIX seconds (UTC wall time), so engine timestamps map onto wall
time without a separate epoch. The engine reads the clock and never sleeps, which is what makes a
manual clock enough to drive every job: advance it and every record's state moves with it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from fractions import Fraction
from typing import Protocol

from jobs_emulator._validation import finite_number

MANUAL_CLOCK_START = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
"""Where a manual clock starts: 2026-01-01T00:00:00Z, so tests see the same timestamps every run."""
_LAST_MOMENT = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()
"""The latest time a timestamp can show (datetime's year 9999): a clock beyond it has no answer."""


class Clock(Protocol):
    """What the engine needs from a clock."""

    def now(self) -> float:
        """Return the current emulator time in POSIX seconds (UTC)."""
        ...


class RealClock:
    """Wall time (`time.time()`)."""

    def now(self) -> float:
        """Return the current wall time in POSIX seconds."""
        return time.time()


class ManualClock:
    """A clock that stands still until `advance()` or `set()` moves it; any thread may move it.

    It adds its steps up exactly: summed as floats near 1.7e9 seconds, every step would be
    rounded to a quarter of a microsecond, and a thousand steps of 0.01 s would fall short of
    10 s, leaving a 10 s job running.
    """

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        """Start at `start` (POSIX seconds).

        Raise `ValueError` when `start` is not a finite number or is past year 9999.
        """
        self._lock = threading.Lock()
        self._exact = Fraction(0)
        self._now = 0.0
        """`_exact` as a float, so that reading the clock costs no conversion."""
        self._move(_moment(start))

    def now(self) -> float:
        """Return the clock's current time in POSIX seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds`; return the new time.

        Raise `ValueError` for a negative step (records are computed from the clock, and time that
        runs backwards would make finished jobs run again) or one that is not a finite number.
        """
        step = _moment(seconds)
        if step < 0:
            raise ValueError(f"a clock only moves forward, got {seconds}")
        with self._lock:
            return self._move(self._exact + step)

    def set(self, when: float) -> float:
        """Move the clock to `when` (POSIX seconds, not earlier than now); return it.

        Raise `ValueError` when `when` is in the clock's past or not a finite number.
        """
        moment = _moment(when)
        with self._lock:
            if moment < self._exact:
                raise ValueError(f"a clock only moves forward: {when} < {self._now}")
            return self._move(moment)

    def _move(self, moment: Fraction) -> float:
        """Set the clock to `moment` (the caller holds the lock, or owns the clock); return it.

        Raise `ValueError` when the time is past what a timestamp can show (year 9999).
        """
        if moment > _LAST_MOMENT:
            raise ValueError("a clock cannot move past 9999-12-31T23:59:59Z")
        self._exact = moment
        self._now = float(moment)
        return self._now


def _moment(seconds: float) -> Fraction:
    """Return `seconds` exactly (a float's exact binary value).

    Raise `ValueError` unless it is a finite number.
    """
    if finite_number(seconds) is None:
        raise ValueError(f"a clock reads and moves by finite numbers of seconds, got {seconds!r}")
    return Fraction(seconds)
