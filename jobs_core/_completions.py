"""Waiting on many jobs at once: `Completions` hands out their final jobs as they finish.

A round of polling costs one `list` of active jobs per reasoner type still waited on (over HTTP
one answer lists both job types, so it is asked for once), then one `get` for each job the list
did not show. So N jobs that run to their end cost one `get` each, plus one `list` per type per
round, where N separate waits would cost N requests per round. Rounds are spaced by the client's
polling policy exactly as a single `wait` spaces its polls, so a job is seen to end as promptly.

Nothing is missed: absence from a list is a reason to read a job, never a verdict. A job too new
to be listed yet, one the list does not show to this caller, or one that does not exist yet is
read with `get` in every round it is absent, and only a `get` that shows a terminal state ends
the wait for it. A job that stays listed as active costs nothing but its share of the lists.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ._backend import fetch_record, fetch_records
from ._config import ClientConfig
from ._create import OperationRef
from ._effects import Gather, Now, Protocol, Sleep
from ._errors import JobError, JobInvalidRequestError, JobTimeoutError
from ._expansions import expand
from ._filters import ListFilters
from ._handles import OperationHandle
from ._include import Include, parse_include
from ._logs import CORE_LOGGER
from ._models import Job, JobRecord
from ._reasoners import ReasonerType, parse_reasoner_type
from ._retry import Deadline
from ._validation import require_positive, require_segment
from ._wait import (
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
    MAX_POLL_INTERVAL_S,
    answer_reserve,
    raise_if_client_disconnected,
)

_ACTIVE = ListFilters(only_active=True)
_LATEST = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


@attrs.frozen
class _Key:
    """One job waited on; several operations may name the same one."""

    kind: ReasonerType
    job_id: str


def _key_of(index: int, op: object) -> tuple[_Key, OperationHandle | None]:
    """Return what operation `index` of `ops` names, and its handle when it is one.

    Raises:
        JobInvalidRequestError: `op` is neither a handle, a reference nor a pair, or names an
            unknown reasoner type or an id that is blank or a dot segment.
    """
    handle = op if isinstance(op, OperationHandle) else None
    ref = handle.ref if handle is not None else op
    if isinstance(ref, OperationRef):
        # Checked as a pair is: a reference may be built by hand, with any id.
        reasoner_type, job_id = ref.reasoner_type, ref.id
    elif isinstance(op, tuple | list) and len(op) == 2:
        reasoner_type, job_id = op
    else:
        raise JobInvalidRequestError(
            f"ops[{index}] must be an operation handle or a (reasoner_type, job_id) pair,"
            f" not {type(op).__name__}"
        )
    try:
        kind = parse_reasoner_type(reasoner_type)
    except JobInvalidRequestError as exc:
        raise JobInvalidRequestError(f"ops[{index}]: {exc}") from exc
    return _Key(kind, require_segment(f"ops[{index}] job_id", job_id)), handle


def _finish_order(item: tuple[int, JobRecord]) -> tuple[dt.datetime, int]:
    """Jobs seen ended in one round: by end time, then in the order of the operations."""
    position, record = item
    finished = record.job.finished_at
    return (finished if finished is not None else _LATEST, position)


@attrs.define
class Completions:
    """The final jobs of many operations, handed out in the order they finish.

    `next_done()` returns the next one (`as_completed`), `all_done()` all of them in the order of
    the operations (`wait_all`). The deadline starts with the first poll. The reads of a round
    run `config.expansion_concurrency` at a time. An operation's handle, when it was given one,
    keeps its final job, as after its own `wait`; a handle that already holds it (and no
    `include=`) costs no request and comes out first.
    """

    config: ClientConfig
    timeout_s: float
    include: Include
    _keys: list[_Key]
    """What each operation names, in the order they were given."""
    _handles: list[OperationHandle | None]
    _interval: float
    """The time from the end of one round to the start of the next."""
    _pending: dict[_Key, list[int]] = attrs.field(init=False)
    """The jobs not finished yet, each with the indexes of the operations that name it."""
    _last_seen: dict[_Key, Job | None] = attrs.field(init=False)
    _gone: set[_Key] = attrs.field(init=False, factory=set)
    """The jobs not found by their last read although seen before (kept as last seen)."""
    _ready: collections.deque[tuple[int, Job | JobError]] = attrs.field(
        init=False, factory=collections.deque
    )
    _started: float | None = attrs.field(init=False, default=None)
    _deadline: float = attrs.field(init=False, default=0.0)
    _due: float | None = attrs.field(init=False, default=None)
    """When the next round may start (the deadline: none may); None before the first."""
    _last_round: bool = attrs.field(init=False, default=False)
    _failure: str | None = attrs.field(init=False, default=None)
    """Why a read of the last round did not answer before the deadline, for the timeout."""

    def __attrs_post_init__(self) -> None:
        self._pending = {}
        for index, key in enumerate(self._keys):
            self._pending.setdefault(key, []).append(index)
        self._last_seen = dict.fromkeys(self._pending)
        if not self.include:
            # A handle that has seen its job end returns it without any effect (as its `wait`
            # does): it comes out first.
            for key, handle in zip(self._keys, self._handles, strict=True):
                if handle is not None and handle.final is not None and key in self._pending:
                    self._settle(key, handle.final)

    @classmethod
    def open(
        cls,
        config: ClientConfig,
        ops: Iterable[OperationHandle | OperationRef | tuple[str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: Mapping[str, object] | None = None,
    ) -> Completions:
        """Return the wait on `ops` after checking every argument; no effect is needed for it.

        `ops` are operation handles, `OperationRef`s or ``(reasoner_type, job_id)`` pairs.

        Raises:
            JobInvalidRequestError: `ops` is not an iterable of those, `timeout_s <= 0`,
                `poll_interval_s` outside (0, 20), or a bad `include` (artifacts and problems
                only when every operation is Logic).
        """
        if isinstance(ops, str | bytes | Mapping) or not isinstance(ops, Iterable):
            raise JobInvalidRequestError(
                "ops must be an iterable of operation handles or (reasoner_type, job_id) pairs,"
                f" not {type(ops).__name__}"
            )
        named = [_key_of(index, op) for index, op in enumerate(ops)]
        kinds = tuple(dict.fromkeys(key.kind for key, _ in named))
        return cls(
            config=config,
            keys=[key for key, _ in named],
            handles=[handle for _, handle in named],
            timeout_s=require_positive("timeout_s", timeout_s),
            include=parse_include(include, kinds),
            interval=require_positive(
                "poll_interval_s", poll_interval_s, below=MAX_POLL_INTERVAL_S
            ),
        )

    @property
    def pending(self) -> int:
        """How many distinct jobs are still waited on."""
        return len(self._pending)

    def next_done(self) -> Protocol[Job | None]:
        """Return the protocol that returns the next operation's final job, expanded as asked,
        or None once every operation's job has been returned.

        A job that ended in the same round as one returned before comes back without any effect.
        Jobs that end in the same round come back by their end time.

        Raises (from the protocol):
            JobTimeoutError: the deadline passed first; `.pending` holds the jobs as last seen.
            JobClientDisconnectedError: this operation's Logic transaction was aborted because
                its client went away (the wait goes on for the others).
            JobError: a read failed for another reason (the wait may be resumed).
        """
        item = yield from self._next()
        return None if item is None else item[1]

    def all_done(self) -> Protocol[list[Job]]:
        """Return the protocol that returns every operation's final job, in the order of the
        operations.

        Raises (from the protocol): as `next_done`, on the first failure.
        """
        jobs: dict[int, Job] = {}
        while (item := (yield from self._next())) is not None:
            index, job = item
            jobs[index] = job
        return [jobs[index] for index in range(len(self._keys))]

    def _next(self) -> Protocol[tuple[int, Job] | None]:
        if not self._pending and not self._ready:
            return None
        if self._started is None:
            self._started = yield Now()
            self._deadline = self._started + self.timeout_s
        # Every job still pending has no outcome queued: this loop ends with one.
        while not self._ready:
            if self._due is not None:
                now = yield Now()
                late = now > self._due and now >= self._deadline - self._reserve
                if self._due >= self._deadline or late:
                    # No round started now could be answered before the deadline.
                    if self._deadline > now:
                        yield Sleep(self._deadline - now)
                    raise self._timed_out()
                if self._due > now:
                    yield Sleep(self._due - now)
            yield from self._round()
            self._schedule(self._started, (yield Now()))
        index, outcome = self._ready.popleft()
        if isinstance(outcome, JobError):
            raise outcome
        return index, outcome

    @property
    def _reserve(self) -> float:
        return answer_reserve(self.timeout_s)

    def _schedule(self, started: float, now: float) -> None:
        """Set when the next round starts, as `wait` spaces its polls: the policy's interval,
        but the last round early enough to be answered, and none after it. `started` is when
        the first round started: kept, not worked back from the deadline, which a huge timeout
        rounds off."""
        until_last = self._deadline - self._reserve - now
        if self._last_round or until_last <= 0:
            self._due = self._deadline
        else:
            delay = min(self._interval, until_last)
            self._last_round = delay == until_last
            self._due = now + delay
            # Time waited at the next round, from the first (as `wait` counts from its start).
            waited = self._due - started
            self._interval = self.config.polling.next_interval(self._interval, waited)
        CORE_LOGGER.debug(
            "wait on many: %d of %d jobs still running, %d ended and waiting to be taken;"
            " next round in %.2fs",
            len(self._pending),
            len(self._last_seen),
            len(self._ready),
            self._due - now,
        )

    @property
    def _polling(self) -> Deadline:
        # Polls are safe to repeat: they ride out transient failures until the deadline.
        return Deadline(self._deadline, persist=True)

    def _round(self) -> Protocol[None]:
        kinds = tuple(kind for kind in ReasonerType if any(k.kind is kind for k in self._pending))
        try:
            listed = yield from fetch_records(
                self.config, kinds, _ACTIVE, limit=None, offset=0, deadline=self._polling
            )
        except JobTimeoutError as exc:
            raise self._timed_out(str(exc)) from exc
        active = {_Key(r.reasoner_type, r.job.id): r for r in listed if _ACTIVE.matches(r.job)}
        absent = []
        for key in self._pending:
            record = active.get(key)
            if record is None:
                absent.append(key)
            else:
                self._last_seen[key] = record.job
                self._gone.discard(key)
        if absent:
            yield from self._read(absent)

    def _read(self, keys: Sequence[_Key]) -> Protocol[None]:
        reads = tuple(
            fetch_record(self.config, key.kind, key.job_id, deadline=self._polling) for key in keys
        )
        results: list[Any] = yield Gather(reads, self.config.expansion_concurrency)
        ended: list[tuple[int, JobRecord]] = []
        cut: JobTimeoutError | None = None
        for position, (key, result) in enumerate(zip(keys, results, strict=True)):
            if isinstance(result, JobTimeoutError):
                # The deadline cut this read short; the jobs the others saw end are still handed
                # out, and the wait times out after them (it has no time for another round).
                cut = result
                self._failure = str(result)
                continue
            if isinstance(result, BaseException):
                # Nothing of this round is lost: every job read stays pending until a round
                # reads it to its end.
                raise result
            job = result.job if result is not None else None
            if job is None:
                if self._last_seen[key] is not None:
                    self._gone.add(key)
                continue
            self._last_seen[key] = job
            self._gone.discard(key)
            if job.is_terminal:
                ended.append((position, result))
        if cut is not None and not ended:
            raise self._timed_out() from cut
        ended.sort(key=_finish_order)
        records = [record for _, record in ended]
        bounded = Deadline(self._deadline)
        finals = yield from expand(self.config, records, self.include, deadline=bounded)
        for record, final in zip(records, finals, strict=True):
            self._finish(_Key(record.reasoner_type, record.job.id), record, final)

    def _finish(self, key: _Key, record: JobRecord, final: Job) -> None:
        outcome: Job | JobError = final
        try:
            raise_if_client_disconnected(record)
        except JobError as exc:
            exc.job_id = record.job.id
            outcome = exc
        self._settle(key, outcome)

    def _settle(self, key: _Key, outcome: Job | JobError) -> None:
        """Queue the outcome of every operation that names `key`, which ends its wait."""
        for index in self._pending.pop(key):
            self._ready.append((index, outcome))
            handle = self._handles[index]
            if handle is not None and isinstance(outcome, Job):
                handle.final = outcome

    def _timed_out(self, failure: str | None = None) -> JobTimeoutError:
        failure = failure or self._failure
        pending = {(key.kind.label, key.job_id): self._last_seen[key] for key in self._pending}
        states = collections.Counter(
            "not found yet"
            if job is None
            else f"{job.state} (not found since)"
            if key in self._gone
            else job.state
            for key, job in zip(self._pending, pending.values(), strict=True)
        )
        seen = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
        cause = f"; {failure}" if failure else ""
        return JobTimeoutError(
            f"{len(pending)} of {len(set(self._keys))} jobs did not finish within"
            f" {self.timeout_s:g}s (last seen: {seen}{cause})",
            pending=pending,
        )


def wait_all(
    config: ClientConfig,
    ops: Iterable[OperationHandle | OperationRef | tuple[str, str]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    include: Mapping[str, object] | None = None,
) -> Protocol[list[Job]]:
    """Return the protocol of `JobsClient.wait_all`: the final job of each of `ops`, in order.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument (see `Completions.open`).
    Raises (from the protocol): as `Completions.next_done`.
    """
    completions = Completions.open(
        config, ops, timeout_s=timeout_s, poll_interval_s=poll_interval_s, include=include
    )
    return completions.all_done()
