"""`include=` expansions: extra reads around a record, best effort.

An expansion that fails yields an empty value (`JobEvents([], None)` or `{}`) instead of failing
the call. The reads of every expansion of every record in a call run in one `Gather`, so a `list`
with `include=` never has more than `config.expansion_concurrency` of them in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._backend import fetch_artifacts, fetch_events, fetch_problems
from ._config import ClientConfig
from ._effects import Gather, Protocol
from ._errors import JobError
from ._include import Include
from ._models import Job, JobEvents, JobExpanded, JobRecord
from ._retry import Deadline

_EMPTY: dict[str, Callable[[], Any]] = {
    "events": lambda: JobEvents([], None),
    "artifacts": dict,
    "problems": dict,
}
"""Makers of the value of a failed expansion: a new one each time, since callers may mutate it."""


def _reads(
    config: ClientConfig, record: JobRecord, include: Include, deadline: Deadline | None
) -> list[tuple[str, Protocol[Any]]]:
    kind, job_id = record.reasoner_type, record.job.id
    reads: list[tuple[str, Protocol[Any]]] = []
    if include.events:
        events = fetch_events(config, kind, job_id, "", "progress", deadline=deadline)
        reads.append(("events", events))
    if include.artifacts:
        reads.append(("artifacts", fetch_artifacts(config, job_id, deadline=deadline)))
    if include.problems:
        reads.append(("problems", fetch_problems(config, job_id, deadline=deadline)))
    return reads


def expand(
    config: ClientConfig,
    records: Sequence[JobRecord],
    include: Include,
    *,
    deadline: Deadline | None = None,
) -> Protocol[list[Job]]:
    """Return `records` as jobs, expanded as `include` asks (plain `Job`s when it asks nothing).

    A `deadline` bounds every read; a read it cuts short yields an empty value.
    """
    if not include:
        return [record.job for record in records]
    reads = [_reads(config, record, include, deadline) for record in records]
    flat = [protocol for item in reads for _, protocol in item]
    results: list[Any] = (yield Gather(tuple(flat), config.expansion_concurrency)) if flat else []
    expanded: list[Job] = []
    position = 0
    for record, item in zip(records, reads, strict=True):
        values = dict.fromkeys(name for name, _ in item)
        for name, _ in item:
            result = results[position]
            position += 1
            if isinstance(result, JobError):
                result = _EMPTY[name]()
            elif isinstance(result, BaseException):
                raise result
            values[name] = result
        expanded.append(_expanded(record, include, values))
    return expanded


def _expanded(record: JobRecord, include: Include, values: dict[str, Any]) -> JobExpanded:
    job = record.job
    return JobExpanded(
        **{field: getattr(job, field) for field in _JOB_FIELDS},
        details=record.details() if include.details else None,
        events=values["events"] if include.events else None,
        artifacts=values["artifacts"] if include.artifacts else None,
        problems=values["problems"] if include.problems else None,
        raw=dict(record.raw) if include.raw else None,
    )


_JOB_FIELDS = tuple(field.name for field in Job.__attrs_attrs__)
