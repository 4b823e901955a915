"""`wait`: poll a job until it ends, on the polling policy, never past the deadline."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import attrs

from ._backend import fetch_record
from ._config import ClientConfig
from ._effects import Now, Protocol, Sleep
from ._errors import (
    JobClientDisconnectedError,
    JobInvalidRequestError,
    JobTimeoutError,
    excerpt,
)
from ._expansions import expand
from ._include import Include, parse_include
from ._logs import CORE_LOGGER
from ._models import Job, JobRecord
from ._reasoners import ReasonerType, parse_reasoner_type
from ._retry import Deadline
from ._validation import require_positive, require_segment

_ANSWER_RESERVE_FRACTION = 0.05
_MAX_ANSWER_RESERVE_S = 1.0
"""The last poll leaves 5% of the timeout, at most a second, for its answer."""

ProgressCallback = Callable[[Job | None], None]
"""Called after every poll with the job as last seen (None while it does not exist yet)."""

MAX_POLL_INTERVAL_S = 20.0
DEFAULT_TIMEOUT_S = 900
"""The defaults of every call that waits, written here once (a test checks the clients')."""
DEFAULT_POLL_INTERVAL_S = 0.5


@attrs.frozen
class WaitSpec:
    """The validated arguments of a wait."""

    kind: ReasonerType
    job_id: str
    timeout_s: float
    poll_interval_s: float
    include: Include
    on_poll: ProgressCallback | None = None

    @classmethod
    def of(
        cls,
        kind: ReasonerType,
        job_id: str,
        timeout_s: object,
        poll_interval_s: object,
        include: Mapping[str, object] | None,
        on_poll: ProgressCallback | None,
    ) -> WaitSpec:
        """Return the spec, checking every argument.

        Raises:
            JobInvalidRequestError: `timeout_s <= 0`, `poll_interval_s` outside (0, 20), a bad
                `include`, or an `on_poll` that is not callable or is a coroutine function.
        """
        if on_poll is not None and not callable(on_poll):
            raise JobInvalidRequestError(f"on_poll must be callable, not {excerpt(on_poll)}")
        if inspect.iscoroutinefunction(on_poll):
            # Called between polls, inside the protocol: nothing would ever await it.
            raise JobInvalidRequestError(
                "on_poll must be a plain function: it is called, never awaited"
            )
        return cls(
            kind=kind,
            job_id=job_id,
            timeout_s=require_positive("timeout_s", timeout_s),
            poll_interval_s=require_positive(
                "poll_interval_s", poll_interval_s, below=MAX_POLL_INTERVAL_S
            ),
            include=parse_include(include, (kind,)),
            on_poll=on_poll,
        )


def wait(
    config: ClientConfig,
    reasoner_type: str,
    job_id: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    include: Mapping[str, object] | None = None,
    on_poll: ProgressCallback | None = None,
) -> Protocol[Job]:
    """Return the protocol of `JobsClient.wait`: the final job, expanded as asked.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument.
    Raises (from the protocol):
        JobTimeoutError: the deadline passed first; `.job` is the job as last seen.
        JobClientDisconnectedError: a Logic transaction aborted because its client went away.
    """
    kind = parse_reasoner_type(reasoner_type)
    job_id = require_segment("job_id", job_id)
    spec = WaitSpec.of(kind, job_id, timeout_s, poll_interval_s, include, on_poll)
    return poll_until_done(config, spec)


def poll_until_done(
    config: ClientConfig, spec: WaitSpec, started: float | None = None
) -> Protocol[Job]:
    """Poll as `spec` says, for `spec.timeout_s` from `started` (a `Now` reading; default now).

    Every request carries the deadline. A poll rides out transient failures (429, 5xx, dropped
    connections, lost SQL sessions, requests the deadline cut short) until the deadline: only the
    deadline or another failure ends the wait. The last poll is sent early enough to be answered
    before the deadline; after it, the wait sleeps what is left and times out.
    """
    # Time waited counts from the start of the call (create_ready's create included). It is
    # kept, not worked back from the deadline: a huge timeout would round the start off.
    if started is None:
        started = yield Now()
    deadline = started + spec.timeout_s
    interval = spec.poll_interval_s
    job: Job | None = None
    """The job as last seen: a job not found after it was seen is reported as it was then."""
    gone = False
    last_poll = False
    while True:
        try:
            polling = Deadline(deadline, persist=True)
            record = yield from fetch_record(config, spec.kind, spec.job_id, deadline=polling)
        except JobTimeoutError as exc:
            raise _timed_out(spec, job, str(exc), gone=gone) from exc
        seen = record.job if record is not None else None
        if spec.on_poll is not None:
            spec.on_poll(seen)
        gone = seen is None and job is not None
        job = seen if seen is not None else job
        if record is not None and seen is not None and seen.is_terminal:
            raise_if_client_disconnected(record)
            reads = Deadline(deadline)
            (final,) = yield from expand(config, [record], spec.include, deadline=reads)
            return final
        now = yield Now()
        remaining = deadline - now
        until_last_poll = remaining - answer_reserve(spec.timeout_s)
        if last_poll or until_last_poll <= 0:
            # No poll sent now could be answered before the deadline: sleep it out, time out.
            if remaining > 0:
                yield Sleep(remaining)
            raise _timed_out(spec, job, gone=gone)
        delay = min(interval, until_last_poll)
        last_poll = delay == until_last_poll
        CORE_LOGGER.debug(
            "wait %s %s: %s; next poll in %.2fs",
            spec.kind.label,
            spec.job_id,
            _describe_seen(job, gone),
            delay,
        )
        yield Sleep(delay)
        interval = config.polling.next_interval(interval, now + delay - started)


def answer_reserve(timeout_s: float) -> float:
    """Return how long before the deadline the last poll is sent, so it can still be answered."""
    return min(_MAX_ANSWER_RESERVE_S, timeout_s * _ANSWER_RESERVE_FRACTION)


def _timed_out(
    spec: WaitSpec, job: Job | None, failure: str | None = None, *, gone: bool
) -> JobTimeoutError:
    cause = f"; {failure}" if failure else ""
    return JobTimeoutError(
        f"{spec.kind.label} {spec.job_id} did not finish within {spec.timeout_s:g}s"
        f" (last seen: {_describe_seen(job, gone)}{cause})",
        job=job,
        job_id=spec.job_id,
    )


def _describe_seen(job: Job | None, gone: bool = False) -> str:
    """Return how a wait last saw a job: its state (``, not found since`` when the reads after
    that found nothing), or ``not found yet``."""
    if job is None:
        return "not found yet"
    return f"state={job.state}" + (", not found since" if gone else "")


def raise_if_client_disconnected(record: JobRecord) -> None:
    """Raise `JobClientDisconnectedError` if `record` is a Logic transaction aborted because its
    waiting client went away (the service's ``client disconnected``)."""
    reason = (record.job.abort_reason or "").strip().lower()
    if record.reasoner_type.is_logic and reason == "client disconnected":
        raise JobClientDisconnectedError(
            f"Logic transaction {record.job.id} was aborted: client disconnected"
        )
