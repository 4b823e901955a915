"""`list`: one reasoner type, or all three merged newest first."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import attrs

from ._backend import dialect_for, fetch_job, fetch_jobs, fetch_record, fetch_records
from ._config import ClientConfig
from ._effects import Protocol
from ._errors import JobInvalidRequestError, excerpt
from ._expansions import expand
from ._filters import ListFilters, newest_first
from ._include import Include, parse_include
from ._models import STATES, Job, JobRecord, ReasonerType
from ._reasoners import parse_reasoner_type
from ._validation import (
    WIRE_INT_MAX,
    optional_int,
    optional_segment,
    optional_text,
    require_bool,
)

T = TypeVar("T")


def list_jobs(
    config: ClientConfig,
    reasoner_type: str | None = None,
    *,
    job_id: str | None = None,
    state: str | None = None,
    name: str | None = None,
    created_by: str | None = None,
    only_active: bool = False,
    all_users: bool = False,
    limit: int | None = None,
    offset: int = 0,
    include: Mapping[str, object] | None = None,
) -> Protocol[list[Job]]:
    """Return the protocol of `JobsClient.list`: matching jobs, newest first.

    With `reasoner_type=None` the three types are listed, merged and sorted before `offset` and
    `limit` apply. `limit <= 0` gives an empty list without any effect.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument, an unknown `state`, or `offset < 0`.
    """
    kinds = tuple(ReasonerType) if reasoner_type is None else (parse_reasoner_type(reasoner_type),)
    state = optional_text("state", state)
    if state is not None and state.upper() not in STATES:
        raise JobInvalidRequestError(
            f"Unknown state {excerpt(state)}. Expected one of: {', '.join(sorted(STATES))}"
        )
    filters = ListFilters.of(
        job_id=optional_segment("job_id", job_id),
        state=state,
        name=optional_text("name", name),
        created_by=optional_text("created_by", created_by),
        only_active=require_bool("only_active", only_active),
        all_users=require_bool("all_users", all_users),
    )
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or limit > WIRE_INT_MAX
    ):
        raise JobInvalidRequestError(
            f"limit must be an int up to {WIRE_INT_MAX} or None, not {excerpt(limit)}"
        )
    start = optional_int("offset", offset, minimum=0) or 0
    wanted = parse_include(include, kinds)
    return _list(config, kinds, filters, limit, start, wanted)


@attrs.frozen
class _Reads(Generic[T]):
    """How a list reads what it pages through: plain `Job`s, or records to expand."""

    one: Callable[[ClientConfig, ReasonerType, str], Protocol[T | None]]
    many: Callable[..., Protocol[list[T]]]
    job_of: Callable[[T], Job]
    created_on: Callable[[T], dt.datetime | None]


_JOBS = _Reads[Job](fetch_job, fetch_jobs, lambda job: job, operator.attrgetter("created_on"))
_RECORDS = _Reads[JobRecord](
    fetch_record, fetch_records, operator.attrgetter("job"), operator.attrgetter("job.created_on")
)


def _list(
    config: ClientConfig,
    kinds: tuple[ReasonerType, ...],
    filters: ListFilters,
    limit: int | None,
    offset: int,
    include: Include,
) -> Protocol[list[Job]]:
    if limit is not None and limit <= 0:
        return []
    if not include:
        return (yield from _page(config, _JOBS, kinds, filters, limit, offset))
    records = yield from _page(config, _RECORDS, kinds, filters, limit, offset)
    return (yield from expand(config, records, include))


def _page(
    config: ClientConfig,
    reads: _Reads[T],
    kinds: tuple[ReasonerType, ...],
    filters: ListFilters,
    limit: int | None,
    offset: int,
) -> Protocol[list[T]]:
    found: list[T] = []
    if filters.job_id is not None:
        for kind in kinds:
            item = yield from reads.one(config, kind, filters.job_id)
            if item is not None:
                found.append(item)
    elif len(kinds) == 1 and dialect_for(config, kinds[0]).applies_filters:
        # The statement filters, sorts and slices: take its rows as they are.
        return (yield from reads.many(config, kinds, filters, limit=limit, offset=offset))
    else:
        # Each type's rows are cut at offset + limit: the merged page cannot need more of them.
        per_kind = None if limit is None else offset + limit
        found = yield from reads.many(config, kinds, filters, limit=per_kind, offset=0)
    page = newest_first(filters.select(found, reads.job_of), reads.created_on)
    return page[offset:] if limit is None else page[offset : offset + limit]
