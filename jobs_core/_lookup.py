"""`get` and `get_operation`: one read of a job, as a `Job` or as an `Operation`."""

from __future__ import annotations

from collections.abc import Mapping

from ._backend import fetch_job, fetch_record
from ._config import ClientConfig
from ._effects import Protocol
from ._expansions import expand
from ._include import Include, parse_include
from ._models import Job, JobRecord, Operation
from ._reasoners import parse_reasoner_type
from ._validation import require_segment


def get(
    config: ClientConfig,
    reasoner_type: str,
    job_id: str,
    *,
    include: Mapping[str, object] | None = None,
) -> Protocol[Job | None]:
    """Return the protocol of `JobsClient.get`: the job, expanded as asked, or None.

    Raises (before any effect):
        JobInvalidRequestError: a bad reasoner type, job id or `include`.
    """
    kind = parse_reasoner_type(reasoner_type)
    job_id = require_segment("job_id", job_id)
    if include is None:
        return fetch_job(config, kind, job_id)
    # Given at all, even empty, `include=` makes the call return a `JobExpanded`.
    wanted = parse_include(include, (kind,))
    return _get(config, fetch_record(config, kind, job_id), wanted)


def _get(
    config: ClientConfig, read: Protocol[JobRecord | None], include: Include
) -> Protocol[Job | None]:
    record = yield from read
    if record is None:
        return None
    (job,) = yield from expand(config, [record], include)
    return job


def get_operation(config: ClientConfig, reasoner_type: str, job_id: str) -> Protocol[Operation]:
    """Return the protocol of `JobsClient.get_operation`.

    Raises (before any effect):
        JobInvalidRequestError: a bad reasoner type or job id.
    """
    kind = parse_reasoner_type(reasoner_type)
    job_id = require_segment("job_id", job_id)
    read = fetch_record(config, kind, job_id)
    return _get_operation(job_id, read)


def _get_operation(job_id: str, read: Protocol[JobRecord | None]) -> Protocol[Operation]:
    record = yield from read
    return operation_of(job_id, record)


_STATUS = {
    "COMPLETED": "SUCCEEDED",
    "CANCELED": "CANCELLED",
    "FAILED": "FAILED",
    "ABORTED": "FAILED",
}


def operation_of(job_id: str, record: JobRecord | None) -> Operation:
    """Return the operation status `record` means (PENDING when there is no record yet)."""
    if record is None:
        return Operation(id=job_id, status="PENDING")
    state = record.job.state.upper()
    status = _STATUS.get(state, "RUNNING")
    error = None
    if status == "FAILED":
        error = record.job.abort_reason or f"job ended in state={state}"
    return Operation(id=record.job.id, status=status, error=error, raw=dict(record.raw))
