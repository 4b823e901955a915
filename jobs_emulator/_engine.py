"""The engine: the store of jobs and transactions that both APIs (Direct Access and SQL) share.

Every public method is thread-safe (one lock), takes plain values and returns plain values or
`JobSnapshot`s, and raises the errors of `jobs_emulator._errors`. Record states are computed from
the clock when read (see `jobs_emulator._records`), so the engine never sleeps and never runs a
timer.

Names (reasoner and engine names) and user names compare case-insensitively.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from jobs_emulator._clock import Clock, ManualClock, RealClock
from jobs_emulator._errors import InvalidRequest, NotFound, NotReady, PermissionDenied
from jobs_emulator._events import STREAMS, EventPage, read_page
from jobs_emulator._messages import parse_json
from jobs_emulator._records import JOB_TYPES, TRANSACTION, JobSnapshot, Record
from jobs_emulator._scripts import Script
from jobs_emulator._validation import finite_number, flag, required_text

DEFAULT_PAGE_SIZE = 10
_T = TypeVar("_T")


class Engine:
    """Jobs (`SOLVER`, `ML`) and transactions (`LOGIC`) driven by a clock and by scripts."""

    def __init__(self, clock: Clock | None = None, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        """Make an empty engine on `clock` (real time by default).

        `page_size` bounds the number of events in one page of an event stream.
        Raise `ValueError` when `page_size` is not an integer of at least 1.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ValueError(f"page_size must be an integer of at least 1, got {page_size!r}")
        self.clock: Clock = clock if clock is not None else RealClock()
        self.page_size = page_size
        self._lock = threading.RLock()
        self._records: dict[str, Record] = {}
        self._scripts: dict[str, Mapping[str, Any]] = {}
        self._not_ready: set[str] = set()
        self._sequence = 0

    # -- clock and set-up -------------------------------------------------------------------

    def now(self) -> float:
        """Return the clock's current time in POSIX seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move a manual clock forward by `seconds`; return the new time.

        Raise `TypeError` when the engine runs on another clock, `ValueError` for a negative step.
        """
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock; this engine runs on real time")
        return self.clock.advance(seconds)

    def set_not_ready(self, name: str, not_ready: bool = True) -> None:
        """Mark the reasoner or engine `name` as not ready (or ready again with `not_ready=False`).

        While it is not ready, `create_*`, `get` and `events` on its records raise `NotReady`.
        Raise `InvalidRequest` for a `name` that is not a non-empty string or a `not_ready` that is
        not a bool.
        """
        key = required_text(name, "name").casefold()
        mark = flag(not_ready, "not_ready")
        with self._lock:
            if mark:
                self._not_ready.add(key)
            else:
                self._not_ready.discard(key)

    def set_script(self, name: str, emulate: Mapping[str, Any] | None) -> None:
        """Set the default script for records created on the reasoner or engine `name`.

        `emulate` uses the keys of `jobs_emulator._scripts`; a script in the request overrides it
        key by key. `None` removes the default. Raises `InvalidRequest` for an invalid script or a
        `name` that is not a non-empty string.
        """
        key = required_text(name, "name").casefold()
        with self._lock:
            if emulate is None:
                self._scripts.pop(key, None)
            else:
                Script().merged(emulate)
                self._scripts[key] = dict(emulate)

    def reset(self) -> None:
        """Forget every record, default script and not-ready mark (the clock is left alone)."""
        with self._lock:
            self._records.clear()
            self._scripts.clear()
            self._not_ready.clear()

    # -- create -----------------------------------------------------------------------------

    def create_job(
        self,
        job_type: str,
        worker_name: str,
        payload: str | Mapping[str, Any],
        *,
        user: str,
        timeout_mins: float | None = None,
    ) -> str:
        """Create a `SOLVER` or `ML` job (any casing) on `worker_name`; return its id.

        `payload` is the JSON text the client sent (a mapping is serialised); its `"emulate"`
        object, if any, scripts the job. `user` becomes `created_by`.
        Raise `InvalidRequest` for a bad type, name, payload, timeout or script, and `NotReady`
        when the worker is marked not ready or the script says `not_ready`; no record is made then.
        """
        kind = parse_job_type(job_type)
        name = required_text(worker_name, "worker_name")
        text = payload if isinstance(payload, str) else json.dumps(payload)
        try:
            document = parse_json(text)
        except ValueError:
            raise InvalidRequest("payload must be a JSON document") from None
        emulate = document.get("emulate") if isinstance(document, dict) else None
        return self._create(kind, name, user, [emulate], timeout_mins, {"payload": text})

    def create_transaction(
        self,
        *,
        database: str,
        engine_name: str,
        query: str,
        user: str,
        read_only: bool = True,
        language: str = "rel",
        inputs: Any = None,
        headers: Mapping[str, Any] | None = None,
        emulate: Mapping[str, Any] | None = None,
        timeout_mins: float | None = None,
        abort_detached: bool = False,
    ) -> str:
        """Create a Logic transaction on `engine_name` against `database`; return its id.

        The script is `headers["emulate"]` overridden by `emulate` (the payload's own `"emulate"`
        over HTTP). `abort_detached` is recorded; the engine does not watch clients, so it never
        aborts a transaction on its own (script `outcome`/`abort_reason` for that).
        Raise `InvalidRequest` for a missing database, engine name or code, bad headers, timeout
        or script, and `NotReady` as `create_job` does.
        """
        name = required_text(engine_name, "engine_name")
        database = required_text(database, "database")
        query = required_text(query, "query")
        if headers is not None and not isinstance(headers, Mapping):
            raise InvalidRequest("headers must be a JSON object")
        layers = [None if headers is None else headers.get("emulate"), emulate]
        details = {
            "database": database,
            "query": query,
            "read_only": bool(read_only),
            "language": language,
            "inputs": inputs,
            "abort_detached": bool(abort_detached),
        }
        return self._create(TRANSACTION, name, user, layers, timeout_mins, details)

    def _create(
        self,
        kind: str,
        name: str,
        user: str,
        layers: list[Any],
        timeout_mins: float | None,
        details: dict[str, Any],
    ) -> str:
        timeout = _timeout(timeout_mins)
        with self._lock:
            script = Script().merged(self._scripts.get(name.casefold()))
            for layer in layers:
                script = script.merged(layer)
            if script.not_ready:
                raise NotReady()
            self._check_ready(name)
            self._sequence += 1
            record = Record(
                id=str(uuid.uuid4()),
                kind=kind,
                name=name,
                created_by=user,
                created_at=self.clock.now(),
                script=script,
                sequence=self._sequence,
                timeout_mins=timeout,
                **details,
            )
            self._records[record.id] = record
            return record.id

    # -- read -------------------------------------------------------------------------------

    def get(self, record_id: str, *, kind: str | None = None) -> JobSnapshot:
        """Return the record `record_id` as it stands now.

        `kind` (`SOLVER`, `ML` or `LOGIC`, any casing) restricts the lookup to that kind.
        Raise `NotFound` for an unknown id or another kind, `InvalidRequest` for an unknown kind,
        `NotReady` when the record's reasoner or engine is marked not ready.
        """
        with self._lock:
            record = self._find(record_id, kind)
            self._check_ready(record.name)
            return record.snapshot(self.clock.now())

    def list_jobs(self) -> list[JobSnapshot]:
        """Return every job (`SOLVER` and `ML`, all users), newest first."""
        return self._list(lambda record: record.kind != TRANSACTION)

    def list_transactions(self) -> list[JobSnapshot]:
        """Return every transaction (all users), newest first."""
        return self._list(lambda record: record.kind == TRANSACTION)

    def _list(self, keep: Callable[[Record], bool]) -> list[JobSnapshot]:
        with self._lock:
            now = self.clock.now()
            chosen = [record for record in self._records.values() if keep(record)]
            chosen.sort(key=lambda record: (record.created_at, record.sequence), reverse=True)
            return [record.snapshot(now) for record in chosen]

    def events(
        self,
        record_id: str,
        continuation_token: str | None = None,
        *,
        kind: str | None = None,
        stream: str = "progress",
        user: str | None = None,
    ) -> EventPage:
        """Return the page of the record's event stream that `continuation_token` points at.

        With `user`, a transaction must be that user's own (jobs are readable by everyone).
        Raise `InvalidRequest` for a stream other than `progress` or a bad token, `NotFound`,
        `PermissionDenied`, and `NotReady` as `get` does.
        """
        if stream not in STREAMS:
            raise InvalidRequest(f"unknown event stream {stream!r}; the only stream is 'progress'")
        with self._lock:
            record = self._find(record_id, kind)
            self._check_ready(record.name)
            _check_owner(record, user)
            now = self.clock.now()
            return read_page(
                record.id,
                record.emitted_at(now),
                record.event,
                continuation_token,
                page_size=self.page_size,
                finished=record.ended(now) is not None,
            )

    def artifacts(self, transaction_id: str, *, user: str | None = None) -> list[dict[str, Any]]:
        """Return a transaction's artifacts (objects with a `filename`), `[]` until it completes.

        With `user`, the transaction must be that user's own.
        Raise `NotFound` for an unknown transaction, `PermissionDenied`.
        """
        return self._transaction_read(transaction_id, user, Record.artifacts_at)

    def problems(self, transaction_id: str, *, user: str | None = None) -> list[dict[str, Any]]:
        """Return a transaction's problems, `[]` until it reaches its scripted outcome.

        With `user`, the transaction must be that user's own.
        Raise `NotFound` for an unknown transaction, `PermissionDenied`.
        """
        return self._transaction_read(transaction_id, user, Record.problems_at)

    def _transaction_read(
        self, transaction_id: str, user: str | None, read: Callable[[Record, float], _T]
    ) -> _T:
        with self._lock:
            record = self._find(transaction_id, TRANSACTION)
            _check_owner(record, user)
            return read(record, self.clock.now())

    # -- cancel -----------------------------------------------------------------------------

    def cancel(
        self,
        record_id: str,
        *,
        kind: str | None = None,
        user: str | None = None,
        all_users: bool = False,
    ) -> JobSnapshot:
        """Cancel an active record (it becomes `CANCELED` now); a terminal one is left as it is.

        With `user` and not `all_users`, a transaction must be that user's own; jobs can be
        cancelled by anyone. Returns the record after the cancel.
        Raise `NotFound`, `InvalidRequest` for an unknown kind, `PermissionDenied`.
        """
        with self._lock:
            record = self._find(record_id, kind)
            _check_owner(record, None if all_users else user)
            now = self.clock.now()
            record.cancel(now)
            return record.snapshot(now)

    # -- internals --------------------------------------------------------------------------

    def _find(self, record_id: str, kind: str | None) -> Record:
        wanted = None if kind is None else parse_kind(kind)
        record = self._records.get(record_id)
        if record is None or (wanted is not None and record.kind != wanted):
            label = "transaction" if wanted == TRANSACTION else "job"
            raise NotFound(f"{label} {record_id} not found")
        return record

    def _check_ready(self, name: str) -> None:
        if name.casefold() in self._not_ready:
            raise NotReady()


def parse_job_type(job_type: str) -> str:
    """Return `SOLVER` or `ML` for that type in any casing; raise `InvalidRequest` otherwise."""
    kind = job_type.strip().upper() if isinstance(job_type, str) else ""
    if kind not in JOB_TYPES:
        raise InvalidRequest(f"unknown job_type {job_type!r}; expected SOLVER or ML")
    return kind


def parse_kind(kind: str) -> str:
    """Return `SOLVER`, `ML` or `LOGIC` for that kind in any casing; raise `InvalidRequest`."""
    upper = kind.strip().upper() if isinstance(kind, str) else ""
    if upper not in (*JOB_TYPES, TRANSACTION):
        raise InvalidRequest(f"unknown type {kind!r}; expected SOLVER, ML or LOGIC")
    return upper


def _check_owner(record: Record, user: str | None) -> None:
    owned = user is None or record.created_by.casefold() == user.casefold()
    if record.kind == TRANSACTION and not owned:
        raise PermissionDenied(f"transaction {record.id} belongs to another user")


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    number = finite_number(value)
    if number is None or number <= 0:
        raise InvalidRequest(f"timeout_mins must be a finite number > 0, got {value!r}")
    return number
