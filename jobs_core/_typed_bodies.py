"""The service's usual list and get bodies, decoded straight into `Job`s by msgspec's typed decoder.

A list or a get answers with objects whose fields have the types the service documents. msgspec
checks those types while it decodes, in C, and this module finishes each object into a `Job`
(ids, states, timestamps, the reasoner type) with no raw dict and no `JobRecord` in between: the
plain `get` and `list` need nothing else. A body in any other shape, a field of another type, a
value the general parser would convert, a record it would refuse: each makes these functions
return None, and the caller parses the body the general way (`_records`), which converts it or
names what is wrong with it. So a call returns what the general path returns, or fails as it
does; a test holds the two paths equal. Without msgspec the functions always return None.
"""

from __future__ import annotations

from typing import Any

from ._errors import JobServerError
from ._models import Job, ReasonerType
from ._reasoners import lookup_reasoner_type
from ._records import final_id_and_state
from ._timestamps import parse_timestamp

try:
    import msgspec
except ImportError:  # pragma: no cover - the project's own environments install it
    _decoders: dict[str, Any] = {}
else:
    _Stamp = str | int | None
    """A timestamp as the service sends it: ISO 8601 text or epoch milliseconds."""

    # Untracked by the garbage collector (`gc=False`): their fields are text, numbers and None,
    # which make no cycles, and a list decodes thousands of them.
    class _JobObject(msgspec.Struct, gc=False):
        id: str
        state: str
        worker_name: str
        type: str | None = None
        created_by: str | None = None
        created_on: _Stamp = None
        finished_at: _Stamp = None
        duration: int | None = None
        timeout_ms: int | None = None  # not in a `Job`, but a bad one must fail the call
        abort_reason: str | None = None
        # Its presence sends a job object down the general path, which then describes it.
        read_only: msgspec.UnsetType = msgspec.UNSET

    class _TransactionObject(msgspec.Struct, gc=False):
        id: str
        state: str
        engine_name: str | None = None
        database_name: str | None = None
        read_only: bool | None = None
        created_by: str | None = None
        created_on: _Stamp = None
        finished_at: _Stamp = None
        duration: int | None = None
        abort_reason: str | None = None

    class _JobList(msgspec.Struct):
        jobs: list[_JobObject]

    class _TransactionList(msgspec.Struct):
        transactions: list[_TransactionObject]

    class _JobGet(msgspec.Struct):
        job: _JobObject

    class _TransactionGet(msgspec.Struct):
        transaction: _TransactionObject
        # An id beside the wrapper makes the outer object the transaction (the unwrapping rule).
        id: msgspec.UnsetType = msgspec.UNSET
        txn_id: msgspec.UnsetType = msgspec.UNSET

    _decoders = {
        name: msgspec.json.Decoder(shape)
        for name, shape in {
            "job list": _JobList,
            "transaction list": _TransactionList,
            "job get": _JobGet,
            "transaction get": _TransactionGet,
        }.items()
    }


def _decode(name: str, body: bytes) -> Any:
    """Return `body` decoded as shape `name`, or None when it is not in that shape."""
    decoder = _decoders.get(name)
    if decoder is None:
        return None
    try:
        return decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None


def _job(item: Any, label: str) -> Job | None:
    """Return job or transaction object `item` as a job of type `label`, or None when one of
    its values needs the general parser."""
    ident, state = item.id, item.state
    if not final_id_and_state(ident, state):
        return None
    try:
        created_on = parse_timestamp(item.created_on)
        finished_at = parse_timestamp(item.finished_at)
    except JobServerError:
        return None
    if label == "Logic":
        name, model = item.engine_name, item.database_name
    else:
        name, model = item.worker_name, None
    return Job(
        ident, label, state, name, model, item.created_by, created_on, finished_at,
        item.duration, item.abort_reason,
    )  # fmt: skip


def _kind_of(item: Any, asked: ReasonerType) -> ReasonerType | None:
    """Return the type job object `item` names; one without a type is of the `asked` type."""
    spelled = item.type
    return asked if spelled is None or spelled == "" else lookup_reasoner_type(spelled)


def jobs_from_list(kind: ReasonerType, body: bytes, *, untyped: bool) -> list[Job] | None:
    """Return the jobs of `kind` a successful list answer holds (those without a type too when
    `untyped`), or None when the general parser must read `body`."""
    if kind.is_logic:
        listed = _decode("transaction list", body)
        return None if listed is None else _jobs(listed.transactions, "Logic")
    listed = _decode("job list", body)
    if listed is None:
        return None
    wanted = []
    # Whether each spelling of a type is `kind`, looked up once: a list spells a few types.
    keeps: dict[str | None, bool] = {None: untyped, "": untyped}
    for item in listed.jobs:
        spelled = item.type
        keep = keeps.get(spelled)
        if keep is None:
            keep = keeps[spelled] = lookup_reasoner_type(spelled) is kind
        if keep:
            wanted.append(item)
    return _jobs(wanted, kind.label)


def _jobs(items: list[Any], label: str) -> list[Job] | None:
    jobs = []
    for item in items:
        job = _job(item, label)
        if job is None:
            return None
        jobs.append(job)
    return jobs


def job_from_get(kind: ReasonerType, body: bytes) -> Job | None:
    """Return the job a successful get answer describes, or None when the general parser must
    read `body`."""
    if kind.is_logic:
        answer = _decode("transaction get", body)
        return None if answer is None else _job(answer.transaction, kind.label)
    answer = _decode("job get", body)
    found = None if answer is None else _kind_of(answer.job, kind)
    return None if found is None else _job(answer.job, found.label)
