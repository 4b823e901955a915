"""The seconds a driver may still wait for an effect, from the effect's deadline.

A deadline may lie past any clock: `timeout_s=math.inf`, or an int too large for a float, means
"no limit". Blocking waits (a socket's timeout, a lock's, an event's) refuse a duration past
`threading.TIMEOUT_MAX` (about 292 years) with OverflowError, so a longer one is cut to it.
"""

from __future__ import annotations

import threading

LONGEST_WAIT = threading.TIMEOUT_MAX
"""The longest duration every blocking wait of the platform accepts."""


def time_left(deadline: float | None, now: float) -> float | None:
    """Return the seconds from `now` to `deadline` (negative once past; None: no deadline), at
    most `LONGEST_WAIT`."""
    return None if deadline is None else min(deadline - now, LONGEST_WAIT)
