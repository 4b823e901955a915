"""Operation handles: a started job to poll, wait for, cancel, read the events of, or resume
elsewhere, as protocols.

`JobOperation` and `JobOperationSync` in `jobs_transports` run these protocols and add nothing:
the rules of a handle (the final job is cached once seen; `result()` refuses a job that has
not ended; ``raise_on_failure=True`` turns an ending other than COMPLETED into
`JobFailedError`; a failed block cancels the job unless it is known to have ended) are written
here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._cancel import cancel
from ._config import ClientConfig
from ._create import OperationRef
from ._effects import Protocol
from ._errors import JobError, JobFailedError, JobInvalidRequestError, JobNotReadyError, clip
from ._events import DEFAULT_STREAM, EventsPager, get_events
from ._logs import CORE_LOGGER
from ._lookup import get, get_operation
from ._models import Job, JobEvents, Operation
from ._validation import require_bool
from ._wait import DEFAULT_POLL_INTERVAL_S, DEFAULT_TIMEOUT_S, ProgressCallback, wait


@attrs.define
class OperationHandle:
    """What a client's operation handle knows: the job's reference, and its final job once seen."""

    config: ClientConfig
    ref: OperationRef
    final: Job | None = None

    @classmethod
    def of(cls, config: ClientConfig, ref: object) -> OperationHandle:
        """Return the handle of `ref`: an `OperationRef`, or the dict `to_dict()` gave.

        Raises:
            JobInvalidRequestError: `ref` is neither, or lacks a usable id or reasoner type (an
                `OperationRef` made by hand is checked as its dict is).
        """
        if isinstance(ref, OperationRef):
            ref = ref.to_dict()
        if isinstance(ref, Mapping):
            return cls(config, OperationRef.from_dict(ref))
        raise JobInvalidRequestError(
            f"an operation is an OperationRef or the dict of JobOperation.to_dict(),"
            f" not {type(ref).__name__}"
        )

    @property
    def id(self) -> str:
        """The job or transaction id."""
        return self.ref.id

    @property
    def metadata(self) -> dict[str, Any]:
        """``{"reasoner_type": <public label>, "name": <reasoner name>}``."""
        return {"reasoner_type": self.ref.reasoner_type, "name": self.ref.name}

    def to_dict(self) -> dict[str, Any]:
        """Return the reference as plain data; `OperationHandle.of` takes it back."""
        return self.ref.to_dict()

    def __str__(self) -> str:
        """Return what the handle holds, for a client handle's `repr`: the type, id, reasoner
        and, once seen, how the job ended."""
        what = "transaction" if self.ref.reasoner_type == "Logic" else "job"
        text = f"{self.ref.reasoner_type} {what} {self.ref.id!r}"
        if self.ref.name is not None:
            text += f" (reasoner {self.ref.name!r})"
        if self.final is not None:
            text += f", ended {self.final.state}"
        return text

    def status(self) -> Protocol[Operation]:
        """Return the protocol of `JobOperation.status`: the current normalised status."""
        return get_operation(self.config, self.ref.reasoner_type, self.ref.id)

    def is_done(self) -> Protocol[bool]:
        """Return the protocol of `JobOperation.is_done`: True once the job has ended."""
        return self._is_done(None if self.final is not None else self.status())

    def _is_done(self, status: Protocol[Operation] | None) -> Protocol[bool]:
        if status is None:
            return True
        return (yield from status).done()

    def wait(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: Mapping[str, object] | None = None,
        *,
        on_poll: ProgressCallback | None = None,
        raise_on_failure: bool = False,
    ) -> Protocol[Job]:
        """Return the protocol of `JobOperation.wait`: the final job, cached for `result()`.

        A cached final job comes back without any effect, unless `include=` is given.

        Raises (before any effect):
            JobInvalidRequestError: a bad argument.
        Raises (from the protocol): as `jobs_core.wait`, and
            JobFailedError: with `raise_on_failure`, the job ended other than COMPLETED.
        """
        require_bool("raise_on_failure", raise_on_failure)
        polling = wait(
            self.config,
            self.ref.reasoner_type,
            self.ref.id,
            timeout_s=timeout_s,
            poll_interval_s=poll_interval_s,
            include=include,
            on_poll=on_poll,
        )
        cached = self.final is not None and include is None
        return self._remember(None if cached else polling, raise_on_failure=raise_on_failure)

    def result(
        self, include: Mapping[str, object] | None = None, *, raise_on_failure: bool = False
    ) -> Protocol[Job]:
        """Return the protocol of `JobOperation.result`: the final job.

        Raises (before any effect):
            JobInvalidRequestError: a bad `include` or `raise_on_failure`.
        Raises (from the protocol):
            JobNotReadyError: the job has not ended yet.
            JobFailedError: with `raise_on_failure`, the job ended other than COMPLETED.
        """
        require_bool("raise_on_failure", raise_on_failure)
        reading = get(self.config, self.ref.reasoner_type, self.ref.id, include=include)
        cached = self.final is not None and include is None
        return self._remember(None if cached else reading, True, raise_on_failure=raise_on_failure)

    def _remember(
        self,
        read: Protocol[Job] | Protocol[Job | None] | None,
        must_be_done: bool = False,
        *,
        raise_on_failure: bool,
    ) -> Protocol[Job]:
        job = self.final if read is None else (yield from read)
        if job is None or (must_be_done and not job.is_terminal):
            state = job.state if job is not None else "not visible yet"
            raise JobNotReadyError(f"{self.ref.reasoner_type} {self.ref.id} is not done ({state})")
        self.final = job
        if raise_on_failure and job.state != "COMPLETED":
            reason = f": {clip(job.abort_reason)}" if job.abort_reason else ""
            raise JobFailedError(
                f"{self.ref.reasoner_type} {self.ref.id} ended {job.state}{reason}", job=job
            )
        return job

    def cancel(self) -> Protocol[None]:
        """Return the protocol of `JobOperation.cancel`: ask the service to stop the job."""
        return cancel(self.config, self.ref.reasoner_type, self.ref.id)

    def cancel_on_error(self) -> Protocol[None]:
        """Return the protocol a client's ``cancel_on_error()`` block runs when it raised: cancel
        the job, unless it is known to have ended.

        Raises (from the protocol):
            JobError: the cancel failed; it is logged (WARNING, ``jobs_core``) for the client to
                drop, as the block's own error is the one to raise.
        """
        if self.final is None:
            try:
                yield from self.cancel()
            except JobError as exc:
                CORE_LOGGER.warning("could not cancel %s after its block failed: %s", self, exc)
                raise

    def events(
        self, continuation_token: str = "", *, stream_name: str = DEFAULT_STREAM
    ) -> Protocol[JobEvents]:
        """Return the protocol of `JobOperation.events`: one page of the job's event stream.

        Raises (before any effect):
            JobInvalidRequestError: a bad argument, or a stream the backend does not have.
        """
        return get_events(
            self.config,
            self.ref.reasoner_type,
            self.ref.id,
            continuation_token,
            stream_name=stream_name,
        )

    def iter_events(
        self,
        continuation_token: str | None = "",
        *,
        stream_name: str = DEFAULT_STREAM,
        follow: bool = False,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    ) -> EventsPager:
        """Return the pager of `JobOperation.iter_events`: every event of the job's stream.

        Raises:
            JobInvalidRequestError: a bad argument, or a stream the backend does not have.
        """
        return EventsPager.open(
            self.config,
            self.ref.reasoner_type,
            self.ref.id,
            continuation_token,
            stream_name=stream_name,
            follow=follow,
            poll_interval_s=poll_interval_s,
        )
