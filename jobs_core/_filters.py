"""`list` filters and ordering, applied the same way whichever backend answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

import attrs

from ._models import ACTIVE_STATES, Job

T = TypeVar("T")


@attrs.frozen
class ListFilters:
    """Normalised filters: `state` upper-cased, `name` and `created_by` lower-cased.

    `created_by` is None when `all_users` was asked for, and `only_active` is False when `state`
    was given, as the list rules say.
    """

    job_id: str | None = None
    state: str | None = None
    name: str | None = None
    created_by: str | None = None
    only_active: bool = False

    @classmethod
    def of(
        cls,
        *,
        job_id: str | None,
        state: str | None,
        name: str | None,
        created_by: str | None,
        only_active: bool,
        all_users: bool,
    ) -> ListFilters:
        """Return the filters the list arguments mean (arguments already validated)."""
        return cls(
            job_id=job_id,
            state=state.upper() if state is not None else None,
            name=name.lower() if name is not None else None,
            created_by=None if all_users or created_by is None else created_by.lower(),
            only_active=only_active and state is None,
        )

    def select(self, items: Iterable[T], job_of: Callable[[T], Job]) -> list[T]:
        """Return the `items` whose job passes every filter, in their order."""
        if self == _NONE:
            return list(items)
        return [item for item in items if self.matches(job_of(item))]

    def matches(self, job: Job) -> bool:
        """Return True when `job` passes every filter."""
        if self.job_id is not None and job.id != self.job_id:
            return False
        state = job.state.upper()
        if self.state is not None and state != self.state:
            return False
        if self.only_active and state not in ACTIVE_STATES:
            return False
        if self.name is not None and (job.name or "").lower() != self.name:
            return False
        return self.created_by is None or (job.created_by or "").lower() == self.created_by


_NONE = ListFilters()


def newest_first(items: Iterable[T], created_on: Callable[[T], dt.datetime | None]) -> list[T]:
    """Return `items` by `created_on`, newest first, those without a timestamp last (both groups
    keep the order they came in for equal timestamps)."""
    dated: list[T] = []
    undated: list[T] = []
    for item in items:
        (undated if created_on(item) is None else dated).append(item)
    # Sorted by the key function itself, not by (timestamp, item) tuples: a list of thousands of
    # jobs would make as many tuples for the garbage collector to scan.
    dated.sort(key=cast(Callable[[T], dt.datetime], created_on), reverse=True)  # none is None
    return dated + undated
