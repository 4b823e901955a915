"""`list` filters and ordering, applied the same way whichever backend answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from ._models import ACTIVE_STATES, JobRecord

_OLDEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


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

    def matches(self, record: JobRecord) -> bool:
        """Return True when `record` passes every filter."""
        if self.job_id is not None and record.id != self.job_id:
            return False
        state = record.state.upper()
        if self.state is not None and state != self.state:
            return False
        if self.only_active and state not in ACTIVE_STATES:
            return False
        if self.name is not None and (record.name or "").lower() != self.name:
            return False
        return self.created_by is None or (record.created_by or "").lower() == self.created_by


def newest_first(records: Iterable[JobRecord]) -> list[JobRecord]:
    """Return `records` by `created_on`, newest first, records without a timestamp last."""
    return sorted(
        records,
        key=lambda r: (r.created_on is not None, r.created_on or _OLDEST),
        reverse=True,
    )
