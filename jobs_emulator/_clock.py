"""The emulator's clocks: real time, or a manual clock that only moves when a test advances it.

Every clock answers `now()` in POSIX seconds (UTC wall time), so engine timestamps map onto wall
time without a separate epoch. The engine reads the clock and never sleeps, which is what makes a
manual clock enough to drive every job: advance it and every record's state moves with it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol

MANUAL_CLOCK_START = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
"""Where a manual clock starts: 2026-01-01T00:00:00Z, so tests see the same timestamps every run."""


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
    """A clock that stands still until `advance()` or `set()` moves it; any thread may move it."""

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the clock's current time in POSIX seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds`; return the new time.

        Raise `ValueError` for a negative step: records are computed from the clock, and time that
        runs backwards would make finished jobs run again.
        """
        if seconds < 0:
            raise ValueError(f"a clock only moves forward, got {seconds}")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> float:
        """Move the clock to `when` (POSIX seconds, not earlier than now); return it.

        Raise `ValueError` when `when` is in the clock's past.
        """
        with self._lock:
            if when < self._now:
                raise ValueError(f"a clock only moves forward: {when} < {self._now}")
            self._now = when
            return self._now
