"""Objects that start afresh in the child of a fork: what they shared with the parent (a
connection both would write to, a lock a parent thread held at the fork) is the parent's.

An object registers itself with `start_afresh_after_fork`; in the child, its `start_afresh` runs
before any code of the child's own. Registered weakly: an object gone is forgotten.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol


class StartsAfresh(Protocol):
    """What a registered object does in the child of a fork."""

    def start_afresh(self) -> None:
        """Let go of what the parent process keeps; make new locks."""
        ...


_REGISTERED: weakref.WeakSet[StartsAfresh] = weakref.WeakSet()


def start_afresh_after_fork(thing: StartsAfresh) -> None:
    """Have `thing.start_afresh()` run in the child of every later fork while `thing` lives."""
    _REGISTERED.add(thing)


def _after_fork() -> None:
    for thing in list(_REGISTERED):
        thing.start_afresh()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork)
