"""The error family every failure that crosses the public API belongs to, and how its messages
quote what a server sent: through `excerpt` or `clip`, never whole."""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import Job


class JobError(Exception):
    """The root of every error this library raises.

    `job_id` names the job the error concerns when the call had already started one (so a
    `create_ready` that fails while waiting never loses the id of the job it created).
    """

    job_id: str | None = None


class JobInvalidRequestError(JobError):
    """The request is invalid: a bad argument (raised before any I/O) or a 400 from the service."""


class JobCapabilityError(JobError):
    """The configured backends cannot do what was asked."""


class JobConfigurationError(JobError):
    """The client configuration is incomplete or contradictory."""


class JobNotFoundError(JobError):
    """The job or transaction does not exist (or is not visible to the caller)."""


class JobNotReadyError(JobError):
    """The reasoner is not ready to accept jobs, or an operation's result is not ready yet."""


class JobTimeoutError(JobError):
    """`wait` reached its deadline before the job ended; `job` is the job as last seen.

    A wait on many jobs (`wait_all`, `as_completed`) fills `pending` instead: every job it was
    still waiting for, keyed by ``(reasoner type label, job id)``, as last seen (None: never
    found; a job seen and then no longer found is kept as it was seen). A timeout says nothing
    about the jobs' outcome: they may still be running.
    """

    def __init__(
        self,
        message: str,
        *,
        job: Job | None = None,
        job_id: str | None = None,
        pending: Mapping[tuple[str, str], Job | None] | None = None,
    ) -> None:
        super().__init__(message)
        self.job = job
        self.job_id = job_id if job_id is not None else (job.id if job is not None else None)
        self.pending: dict[tuple[str, str], Job | None] = dict(pending or {})


class JobFailedError(JobError):
    """A job ended without completing (FAILED, ABORTED or CANCELED), raised only when asked
    (``raise_on_failure=True``); `job` is the final job, `job_id` its id."""

    def __init__(self, message: str, *, job: Job) -> None:
        super().__init__(message)
        self.job = job
        self.job_id = job.id


class JobServerError(JobError):
    """The service failed, answered something unusable, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JobClientDisconnectedError(JobServerError):
    """A Logic transaction was aborted because its waiting client went away."""


class JobUnknownError(JobError):
    """A failure that fits no other category."""


EXCERPT_LIMIT = 300
"""The most characters of a server's value or text an error message quotes."""


class _BoundedRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        # `repr` refuses an int past 4300 digits (ValueError), and a shorter one would be cut
        # anyway: its size says as much.
        if x.bit_length() > _LONGEST_INT_BITS:
            return f"<an int of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_LONGEST_INT_BITS = 1000
"""An int this long (about 300 digits) or longer is quoted by its size."""


def _make_repr() -> reprlib.Repr:
    # reprlib stops at these sizes while it walks a value, so a 10 MB list costs no more than a
    # short one (a plain repr would be built whole and then cut).
    bounded = _BoundedRepr()
    bounded.maxlevel = 3
    bounded.maxdict = bounded.maxlist = bounded.maxtuple = bounded.maxset = 6
    bounded.maxstring = bounded.maxother = bounded.maxlong = EXCERPT_LIMIT // 2
    return bounded


_REPR = _make_repr()


def clip(text: str) -> str:
    """Return `text` (a server's message or body) cut to `EXCERPT_LIMIT` characters, marked ``...``
    when it was cut."""
    return text if len(text) <= EXCERPT_LIMIT else text[:EXCERPT_LIMIT] + "..."


def excerpt(value: object) -> str:
    """Return a repr of `value` (anything a server sent, or a caller passed) of at most
    `EXCERPT_LIMIT` characters (plus ``...``), however large or deep `value` is."""
    return clip(_REPR.repr(value))
