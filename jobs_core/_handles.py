"""Operation handles: a started job to poll, wait for, or resume elsewhere, as protocols.

`JobOperation` and `JobOperationSync` in `jobs_transports` run these protocols and add nothing:
the rules of a handle (the final job is cached once seen; `result()` refuses a job that has
not ended) are written here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._config import ClientConfig
from ._create import OperationRef
from ._effects import Protocol
from ._errors import JobInvalidRequestError, JobNotReadyError
from ._lookup import get, get_operation
from ._models import Job, Operation
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
            JobInvalidRequestError: `ref` is neither, or lacks a usable id or reasoner type.
        """
        if isinstance(ref, OperationRef):
            return cls(config, ref)
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
    ) -> Protocol[Job]:
        """Return the protocol of `JobOperation.wait`: the final job, cached for `result()`.

        A cached final job comes back without any effect, unless `include` asks for more.

        Raises (before any effect):
            JobInvalidRequestError: a bad argument.
        Raises (from the protocol): as `jobs_core.wait`.
        """
        polling = wait(
            self.config,
            self.ref.reasoner_type,
            self.ref.id,
            timeout_s=timeout_s,
            poll_interval_s=poll_interval_s,
            include=include,
            on_poll=on_poll,
        )
        return self._remember(None if self.final is not None and not include else polling)

    def result(self, include: Mapping[str, object] | None = None) -> Protocol[Job]:
        """Return the protocol of `JobOperation.result`: the final job.

        Raises (before any effect):
            JobInvalidRequestError: a bad `include`.
        Raises (from the protocol):
            JobNotReadyError: the job has not ended yet.
        """
        reading = get(self.config, self.ref.reasoner_type, self.ref.id, include=include)
        return self._remember(None if self.final is not None and not include else reading, True)

    def _remember(
        self, read: Protocol[Job] | Protocol[Job | None] | None, must_be_done: bool = False
    ) -> Protocol[Job]:
        if read is None and self.final is not None:
            return self.final
        job = None if read is None else (yield from read)
        if job is None or (must_be_done and not job.is_terminal):
            state = job.state if job is not None else "not visible yet"
            raise JobNotReadyError(f"{self.ref.reasoner_type} {self.ref.id} is not done ({state})")
        self.final = job
        return job
