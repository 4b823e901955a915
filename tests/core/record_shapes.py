"""Hypothesis strategies for the objects a server may send as a job or transaction: every field
optional, each drawn from the shapes the service sends and from shapes it should not."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

STATES = ["RUNNING", "COMPLETED", "completed", " FAILED", "CANCELED", "", "  ", "WEIRD"]
TEXTS = st.one_of(st.none(), st.sampled_from(["", " ", "x", "ALICE", "a b"]), st.integers(-2, 2))
NUMBERS = st.one_of(
    st.none(), st.integers(-(2**64), 2**64), st.booleans(), st.sampled_from(["", "12", "1.5", "x"])
)
TIMESTAMPS = st.one_of(
    st.none(),
    st.datetimes(
        timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=2))])
    ).map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat(sep=" ")),
    st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", "2026-13-01", "2026-01-01T00:00Z x"]),
    st.integers(0, 10**16),
    st.text(max_size=12),
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(TEXTS, st.just("job-1")),
        "state": st.one_of(st.sampled_from(STATES), st.none(), st.just(["RUNNING"])),
        "type": st.one_of(st.none(), st.sampled_from(["", "ML", "prescriptive", "nope", "Logic"])),
        "worker_name": TEXTS,
        "engine_name": TEXTS,
        "database_name": TEXTS,
        "created_by": TEXTS,
        "created_on": TIMESTAMPS,
        "finished_at": TIMESTAMPS,
        "duration": NUMBERS,
        "timeout_ms": NUMBERS,
        "abort_reason": TEXTS,
        "read_only": st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, "yes", "maybe"])),
        "payload": st.one_of(st.none(), st.just('{"a": 1}'), st.just({"b": 2}), st.just("[1]")),
    },
)
