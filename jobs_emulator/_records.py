"""One job or transaction: what was asked for, and its state computed from the clock.

A record stores only facts fixed at creation (time, script, timeout) plus the time it was cancelled.
Everything else — state, finish time, duration, events so far, artifacts — is computed for a given
"now", so moving a manual clock moves every record, and the same clock reading always gives the
same answer.

Timeline of a record created at `t0` with scripted duration `d`:
`CREATED` at `t0`, `PENDING` at `t0 + min(0.1, d/4)`, `RUNNING` at `t0 + min(0.2, d/2)`, then the
scripted outcome at `t0 + d`. A timeout that falls before `t0 + d` ends it as `ABORTED` at
`t0 + timeout` instead; a cancel while active ends it as `CANCELED` at the cancel time. Progress
event `i` of `n` is emitted at `t0 + d*i/n`, and only events emitted before the end are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from jobs_emulator._events import progress_event
from jobs_emulator._scripts import Script
from jobs_emulator._timestamps import to_datetime

JOB_TYPES = ("SOLVER", "ML")
TRANSACTION = "LOGIC"
ACTIVE_STATES = ("CREATED", "PENDING", "RUNNING")
TERMINAL_STATES = ("COMPLETED", "FAILED", "CANCELED", "ABORTED")
_TOLERANCE_S = 1e-6
"""POSIX seconds near 2**31 keep ~0.2 µs of precision, so `t0 + 0.1` read back may fall short of
`0.1` after `t0`; a moment counts as reached within a microsecond so clock steps stay exact."""


@attrs.frozen
class JobSnapshot:
    """A record as it stands at one clock reading. Fields that do not apply to a kind are `None`."""

    id: str
    kind: str
    """`SOLVER`, `ML` or `LOGIC`."""
    name: str
    """The reasoner (worker) name of a job, the engine name of a transaction."""
    created_by: str
    created_on: datetime
    state: str
    finished_at: datetime | None
    duration: int | None
    """Milliseconds from creation to the end, once terminal."""
    abort_reason: str | None
    timeout_ms: int | None
    payload: str | None
    """Jobs: the payload JSON text as the client sent it."""
    database: str | None
    """Transactions: the database name."""
    read_only: bool | None
    query: str | None
    language: str | None
    inputs: Any
    """Transactions: the inputs as sent (`inputs`/`v1_inputs`)."""
    abort_detached: bool

    @property
    def is_transaction(self) -> bool:
        """Return whether this is a Logic transaction (rather than a job)."""
        return self.kind == TRANSACTION

    @property
    def is_terminal(self) -> bool:
        """Return whether the state is one of `TERMINAL_STATES`."""
        return self.state in TERMINAL_STATES


@attrs.frozen
class _End:
    at: float
    state: str
    abort_reason: str | None
    scripted: bool
    """Whether the record reached its scripted outcome (not a timeout or a cancel)."""


@attrs.define
class Record:
    """A job or transaction in the store; mutated only by `cancel()`."""

    id: str
    kind: str
    name: str
    created_by: str
    created_at: float
    script: Script
    sequence: int
    """Creation order: keeps newest-first stable between records created at one instant."""
    timeout_mins: float | None = None
    payload: str | None = None
    database: str | None = None
    read_only: bool | None = None
    query: str | None = None
    language: str | None = None
    inputs: Any = None
    abort_detached: bool = False
    canceled_at: float | None = None

    def end(self) -> _End:
        """Return when and how the record ends if nobody cancels it."""
        scripted_at = self.created_at + self.script.duration_s
        if self.timeout_mins is not None:
            timeout_at = self.created_at + self.timeout_mins * 60
            if not _reached(timeout_at, scripted_at):
                reason = f"job exceeded its timeout of {self.timeout_mins:g} minutes"
                return _End(timeout_at, "ABORTED", reason, scripted=False)
        return _End(scripted_at, self.script.outcome, self.script.abort_reason, scripted=True)

    def ended(self, now: float) -> _End | None:
        """Return how the record ended, or `None` while it is still active at `now`."""
        natural = self.end()
        if self.canceled_at is not None and not _reached(self.canceled_at, natural.at):
            return _End(self.canceled_at, "CANCELED", None, scripted=False)
        return natural if _reached(now, natural.at) else None

    def cancel(self, now: float) -> None:
        """Cancel the record at `now`; a record already terminal at `now` is left as it is."""
        if self.ended(now) is None:
            self.canceled_at = now

    def state_at(self, now: float) -> str:
        """Return the state at `now`."""
        return self._state(now, self.ended(now))

    def _state(self, now: float, ended: _End | None) -> str:
        if ended is not None:
            return ended.state
        elapsed = now - self.created_at
        duration = self.script.duration_s
        if _reached(elapsed, min(0.2, duration / 2)):
            return "RUNNING"
        if _reached(elapsed, min(0.1, duration / 4)):
            return "PENDING"
        return "CREATED"

    def snapshot(self, now: float) -> JobSnapshot:
        """Return the record as it stands at `now`."""
        ended = self.ended(now)
        return JobSnapshot(
            id=self.id,
            kind=self.kind,
            name=self.name,
            created_by=self.created_by,
            created_on=to_datetime(self.created_at),
            state=self._state(now, ended),
            finished_at=None if ended is None else to_datetime(ended.at),
            duration=None if ended is None else round((ended.at - self.created_at) * 1000),
            abort_reason=None if ended is None else ended.abort_reason,
            timeout_ms=None if self.timeout_mins is None else round(self.timeout_mins * 60_000),
            payload=self.payload,
            database=self.database,
            read_only=self.read_only,
            query=self.query,
            language=self.language,
            inputs=self.inputs,
            abort_detached=self.abort_detached,
        )

    def emitted_at(self, now: float) -> int:
        """Return how many progress events were emitted up to `now` (none after the end).

        Event `i` of `n` is emitted at `t0 + d*i/n`, a time that grows with `i`, so the emitted
        events are the first ones: a binary search finds how many in O(log n).
        """
        ended = self.ended(now)
        horizon = now if ended is None else min(now, ended.at)
        low, high = 0, self.script.events
        while low < high:
            middle = (low + high + 1) // 2
            if _reached(horizon, self.event_time(middle)):
                low = middle
            else:
                high = middle - 1
        return low

    def event_time(self, index: int) -> float:
        """Return when progress event `index` (1-based) is emitted, in POSIX seconds."""
        return self.created_at + self.script.duration_s * index / self.script.events

    def event(self, index: int) -> dict[str, Any]:
        """Return progress event `index` (1-based)."""
        return progress_event(index, self.script.events, self.event_time(index))

    def artifacts_at(self, now: float) -> list[dict[str, Any]]:
        """Return the scripted artifacts once the scripted outcome is reached, else `[]`."""
        ended = self.ended(now)
        return [dict(a) for a in self.script.artifacts] if ended and ended.scripted else []

    def problems_at(self, now: float) -> list[dict[str, Any]]:
        """Return the scripted problems once the scripted outcome is reached, else `[]`."""
        ended = self.ended(now)
        return [dict(p) for p in self.script.problems] if ended and ended.scripted else []


def _reached(now: float, moment: float) -> bool:
    return now >= moment - _TOLERANCE_S
