"""What the `jobs` command's exit status means, and which status and message an error gets."""

from __future__ import annotations

import enum

from jobs_core import (
    CassetteError,
    JobCapabilityError,
    JobClientDisconnectedError,
    JobConfigurationError,
    JobError,
    JobInvalidRequestError,
    JobNotFoundError,
    JobServerError,
    JobTimeoutError,
)


class Exit(enum.IntEnum):
    """The exit statuses of `jobs` (`MEANINGS` says what each means, for `--help`)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    JOB_FAILED = 3
    JOB_CANCELED = 4
    TIMED_OUT = 5
    NOT_FOUND = 6
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    TERMINATED = 143


MEANINGS = {
    Exit.OK: "success; for wait and create --wait: the job ended COMPLETED",
    Exit.ERROR: "the service failed or could not be reached",
    Exit.USAGE: "bad usage or configuration, or credentials the service refused",
    Exit.JOB_FAILED: "the job ended FAILED or ABORTED",
    Exit.JOB_CANCELED: "the job ended CANCELED",
    Exit.TIMED_OUT: "--timeout passed before the job ended (it may still be running)",
    Exit.NOT_FOUND: "get, wait, events, cancel: no such job (wait: not seen within --grace "
    "seconds, or within --timeout if that ends first)",
    Exit.INTERRUPTED: "interrupted (Ctrl-C); a job being waited for keeps running",
    Exit.BROKEN_PIPE: "the reader of the output went away (as when piped into `head -1`)",
    Exit.TERMINATED: "terminated by SIGTERM (CI cancelling a step, kill); a job being waited for "
    "keeps running",
}

_BY_STATE = {
    "COMPLETED": Exit.OK,
    "FAILED": Exit.JOB_FAILED,
    "ABORTED": Exit.JOB_FAILED,
    "CANCELED": Exit.JOB_CANCELED,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: raised by the handler `jobs` installs, it stops a command as Ctrl-C does
    (every ``except KeyboardInterrupt`` sees it), and the exit status says which it was."""


def for_interrupt(exc: KeyboardInterrupt) -> tuple[Exit, str]:
    """Return the exit status of a command that `exc` stopped, and the word for what did."""
    if isinstance(exc, Terminated):
        return Exit.TERMINATED, "terminated"
    return Exit.INTERRUPTED, "interrupted"


def for_final_state(state: str) -> Exit:
    """Return the exit status of a wait that saw the job end in `state`."""
    return _BY_STATE.get(state.upper(), Exit.ERROR)


_NAMING_A_JOB = frozenset({"get", "wait", "events", "cancel"})
"""The commands given a job id: for them (only) a 404 means there is no such job. To `list` or
`create` it means the URL is wrong (a bad --base-url, a stale endpoint): the service failed."""


def for_error(exc: JobError, command: str) -> Exit:
    """Return the exit status of `command` when it raised `exc`."""
    if isinstance(exc, JobTimeoutError):
        return Exit.TIMED_OUT
    if isinstance(exc, JobNotFoundError):
        return Exit.NOT_FOUND if command in _NAMING_A_JOB else Exit.ERROR
    if isinstance(exc, JobClientDisconnectedError):  # the transaction was aborted
        return Exit.JOB_FAILED
    # What the configured backend cannot do is refused before any I/O: usage, as a bad argument.
    usage = JobInvalidRequestError | JobConfigurationError | JobCapabilityError | CassetteError
    if isinstance(exc, usage):
        return Exit.USAGE
    if isinstance(exc, JobServerError) and exc.status in (401, 403):
        return Exit.USAGE
    return Exit.ERROR


def help_table() -> str:
    """Return the exit statuses as the lines `--help` shows."""
    return "\n".join(f"  {int(code):>3}  {text}" for code, text in MEANINGS.items())
