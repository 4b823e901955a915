"""Backend records (HTTP job and transaction objects, SQL rows) turned into `JobRecord`s.

One private cattrs converter, made by `_make_converter`, holds the hooks for the scalar shapes the
backends send (timestamps, numbers as text, type spellings in any casing...). Each of the four
record shapes gets its own structuring function, generated once at import with the wire names
mapped explicitly, so parsing a record is one call of straight-line generated code.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote
from cattrs.gen import make_dict_structure_fn, override

from ._effects import SqlRows
from ._errors import JobServerError, clip, excerpt
from ._models import STATES, Job, JobEvents, JobRecord
from ._reasoners import ReasonerType, lookup_reasoner_type
from ._timestamps import parse_timestamp

# The generated functions read every field from one mapping, so the untouched record (kept as
# `raw`) and the reasoner type, when the record does not carry it, ride along under keys that no
# backend uses.
_RAW = "(raw)"
_KIND = "(kind)"

_INT_LIMIT = 2**63
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def _text(value: object, _: object) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a non-empty string, got {excerpt(value)}")


def _optional_text(value: object, _: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {excerpt(value)}")


def _state(value: object, _: object) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip().upper()
    raise ValueError(f"expected a state name, got {excerpt(value)}")


def _optional_int(value: object, _: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number: float | decimal.Decimal
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            number = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError(f"expected an integer, got {excerpt(value)}") from None
    elif isinstance(value, float | decimal.Decimal):
        number = value
    else:
        raise ValueError(f"expected an integer, got {excerpt(value)}")
    # Checked before rounding: NaN, infinities and huge numbers have no sensible int.
    if isinstance(number, decimal.Decimal) and not number.is_finite():
        raise ValueError(f"expected an integer, got {excerpt(value)}")
    if not -_INT_LIMIT < float(number) < _INT_LIMIT:
        raise ValueError(f"expected an integer, got {excerpt(value)}")
    return round(number)


def _optional_bool(value: object, _: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    raise ValueError(f"expected a boolean, got {excerpt(value)}")


def _reasoner_type(value: object, _: object) -> ReasonerType:
    kind = lookup_reasoner_type(value)
    if kind is None:
        raise ValueError(f"unknown reasoner type {excerpt(value)}")
    return kind


def _timestamp(value: object, _: object) -> dt.datetime | None:
    return parse_timestamp(value)


def _as_is(value: object, _: object) -> object:
    return value


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(str, _text)
    converter.register_structure_hook(str | None, _optional_text)
    converter.register_structure_hook(int | None, _optional_int)
    converter.register_structure_hook(bool | None, _optional_bool)
    converter.register_structure_hook(dt.datetime | None, _timestamp)
    converter.register_structure_hook(ReasonerType, _reasoner_type)
    return converter


_CONVERTER = _make_converter()
_HOOKS: dict[str, Callable[[object, object], object]] = {
    "state": _state,
    "payload": _as_is,  # kept as sent: `JobRecord.payload` decodes it when read
    "raw": _as_is,
}


@attrs.frozen
class _Fields:
    """Every field of a record, flat, as the full parser reads them off the wire."""

    reasoner_type: ReasonerType
    id: str
    state: str
    name: str | None = None
    model: str | None = None
    created_by: str | None = None
    created_on: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration: int | None = None
    abort_reason: str | None = None
    read_only: bool | None = None
    payload: Any = None
    timeout_ms: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict)

    def record(self) -> JobRecord:
        """Return these fields as a record."""
        kind = self.reasoner_type
        job = Job(
            self.id, kind.label, self.state, self.name, self.model, self.created_by,
            self.created_on, self.finished_at, self.duration, self.abort_reason,
        )  # fmt: skip
        return JobRecord(kind, job, self.read_only, self.payload, self.timeout_ms, self.raw)


class _Shape:
    """One wire shape of a record: which key holds each field, and its parser."""

    __slots__ = ("_structure", "what", "wire")

    def __init__(self, what: str, wire: Mapping[str, str]) -> None:
        self.what = what
        self.wire = wire
        overrides: dict[str, Any] = {
            field.name: (
                override(rename=wire[field.name], struct_hook=_HOOKS.get(field.name))
                if field.name in wire
                else override(omit=True)
            )
            for field in attrs.fields(_Fields)
        }
        self._structure = make_dict_structure_fn(_Fields, _CONVERTER, **overrides)

    def __call__(self, source: Mapping[str, Any]) -> JobRecord:
        """Return the record `source` describes.

        Raises:
            JobServerError: a field is missing or unusable; the message names its wire key.
        """
        try:
            return self._structure(source).record()
        except cattrs.ClassValidationError as exc:
            problems = "; ".join(self._describe(error) for error in exc.exceptions)
            raise JobServerError(f"Unusable {self.what} from the server: {problems}") from exc

    def _describe(self, error: BaseException) -> str:
        notes = [
            n for n in getattr(error, "__notes__", ()) if isinstance(n, AttributeValidationNote)
        ]
        if not notes:
            return clip(str(error))
        name = notes[-1].name
        key = self.wire.get(name, name)
        if isinstance(error, KeyError):
            return f"field {key!r} is missing"
        return f"field {key!r}: {clip(str(error))}"


_COMMON = ("id", "state", "created_by", "created_on", "finished_at", "duration", "abort_reason")
_HTTP_JOB = _Shape(
    "job",
    {
        **{name: name for name in (*_COMMON, "payload", "timeout_ms")},
        "reasoner_type": "type",
        "name": "worker_name",
        "raw": _RAW,
    },
)
_HTTP_TRANSACTION = _Shape(
    "transaction",
    {
        **{name: name for name in (*_COMMON, "read_only")},
        "reasoner_type": _KIND,
        "name": "engine_name",
        "model": "database_name",
        "raw": _RAW,
    },
)
_SQL_JOB = _Shape(
    "job row",
    {
        **{name: name.upper() for name in (*_COMMON, "payload", "timeout_ms")},
        "reasoner_type": "REASONER_TYPE",
        "name": "REASONER_NAME",
        "raw": _RAW,
    },
)
_SQL_TRANSACTION = _Shape(
    "transaction row",
    {
        **{name: name.upper() for name in (*_COMMON, "read_only")},
        "reasoner_type": _KIND,
        "name": "ENGINE_NAME",
        "model": "DATABASE_NAME",
        "raw": _RAW,
    },
)


_TEXT_OR_NONE = frozenset({str, type(None)})
_INT_OR_NONE = frozenset({int, type(None)})
_BOOL_OR_NONE = frozenset({bool, type(None)})


def final_id_and_state(ident: object, state: object) -> bool:
    """Return True when a record's id and state are usable as they are: text that is not blank,
    and a state name in upper case (anything else is for the full parser to convert or refuse)."""
    return (
        type(ident) is str
        and bool(ident)
        and not ident.isspace()
        and type(state) is str  # checked first: a list or a dict cannot be looked up in a set
        and state in STATES
    )


def _fast_record(kind: ReasonerType, value: dict[str, Any]) -> JobRecord | None:
    """Return the record of an object in the shape the service sends, or None.

    None when any field needs the full parser (`_Shape`), which then converts it or names what
    is wrong with it: this path only takes fields that are final as they are, so both paths give
    equal records, and bad input fails with the full parser's errors.
    """
    get = value.get
    ident: Any = get("id")  # text once checked below
    state: Any = get("state")
    created_by, duration, abort_reason = get("created_by"), get("duration"), get("abort_reason")
    if (
        not final_id_and_state(ident, state)
        or type(created_by) not in _TEXT_OR_NONE
        or type(abort_reason) not in _TEXT_OR_NONE
        or type(duration) not in _INT_OR_NONE
    ):
        return None
    try:
        created_on = parse_timestamp(get("created_on"))
        finished_at = parse_timestamp(get("finished_at"))
    except JobServerError:
        return None
    if kind.is_logic:
        name, model, read_only = get("engine_name"), get("database_name"), get("read_only")
        if (
            type(name) not in _TEXT_OR_NONE
            or type(model) not in _TEXT_OR_NONE
            or type(read_only) not in _BOOL_OR_NONE
        ):
            return None
        job = Job(
            ident, "Logic", state, name, model, created_by, created_on, finished_at, duration,
            abort_reason,
        )  # fmt: skip
        return JobRecord(kind, job, read_only, None, None, value)
    spelled, name, timeout_ms = get("type"), get("worker_name"), get("timeout_ms")
    reasoner_type = kind if spelled is None or spelled == "" else lookup_reasoner_type(spelled)
    if (
        reasoner_type is None
        or type(name) is not str
        or type(timeout_ms) not in _INT_OR_NONE
        or "read_only" in value
    ):
        return None
    job = Job(
        ident, reasoner_type.label, state, name, None, created_by, created_on, finished_at,
        duration, abort_reason,
    )  # fmt: skip
    return JobRecord(reasoner_type, job, None, get("payload"), timeout_ms, value)


def record_from_http(kind: ReasonerType, value: object) -> JobRecord:
    """Return the record an HTTP job object (`kind` a job type) or transaction object describes.

    A job object without `type` is of the requested `kind`; `engine_name` stands in for a missing
    `worker_name`. A transaction object may carry its id as `txn_id`. `raw` is `value` itself.

    Raises:
        JobServerError: `value` is not an object, or a field is missing or unusable.
    """
    if not isinstance(value, dict):
        raise JobServerError(
            f"Expected a {_noun(kind)} object from the server, got {excerpt(value)}"
        )
    record = _fast_record(kind, value)
    if record is not None:
        return record
    source = {**value, _RAW: value}
    if kind.is_logic:
        source[_KIND] = kind
        if "id" not in value and "txn_id" in value:
            source["id"] = value["txn_id"]
        return _HTTP_TRANSACTION(source)
    if value.get("type") in (None, ""):
        source["type"] = kind
    if value.get("worker_name") is None and "engine_name" in value:
        source["worker_name"] = value["engine_name"]
    return _HTTP_JOB(source)


def records_from_sql(kind: ReasonerType, rows: SqlRows) -> list[JobRecord]:
    """Return the records of a job (`kind` a job type) or transaction result set.

    Column names are matched case-insensitively; a job row without a type is of `kind`. Each
    record's `raw` maps the (upper-cased) column names to the cells as received.

    Raises:
        JobServerError: a row's length differs from the columns', or a field is unusable.
    """
    columns = tuple(str(column).upper() for column in rows.columns)
    shape = _SQL_TRANSACTION if kind.is_logic else _SQL_JOB
    records: list[JobRecord] = []
    for row in rows.rows:
        if len(row) != len(columns):
            raise JobServerError(f"A row has {len(row)} cells for {len(columns)} columns")
        raw = dict(zip(columns, row, strict=True))
        source: dict[str, Any] = {**raw, _RAW: raw}
        if kind.is_logic:
            source[_KIND] = kind
        elif raw.get("REASONER_TYPE") in (None, ""):
            source["REASONER_TYPE"] = kind
        records.append(shape(source))
    return records


def job_events(value: object) -> JobEvents:
    """Return the page of events `{"events": [...], "continuation_token": ...}` describes.

    Missing or null `events` is an empty page; a numeric token becomes text, a null one None.

    Raises:
        JobServerError: `value` is not an object, `events` is not a list of objects, or the token
            is neither text, a number nor null.
    """
    if not isinstance(value, dict):
        raise JobServerError(f"Expected an events object from the server, got {excerpt(value)}")
    events = value.get("events")
    if events is None:
        events = []
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        raise JobServerError(f"Expected a list of event objects, got {excerpt(events)}")
    token = value.get("continuation_token")
    if isinstance(token, int | float) and not isinstance(token, bool):
        token = str(token)
    if token is not None and not isinstance(token, str):
        raise JobServerError(f"Expected a continuation token, got {excerpt(token)}")
    return JobEvents(events=events, continuation_token=token)


def artifacts_by_filename(items: list[Any]) -> dict[str, Any]:
    """Return artifact objects keyed by their `filename` (any casing), their keys upper-cased.

    `FILENAME` stays in each artifact, so an artifact reads the same as a row of the SQL API.

    Raises:
        JobServerError: an item is not an object with a text `filename`.
    """
    artifacts: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            raise JobServerError(f"Expected an artifact object, got {excerpt(item)}")
        upper = {str(key).upper(): value for key, value in item.items()}
        filename = upper.get("FILENAME")
        if not isinstance(filename, str):
            raise JobServerError(f"Expected an artifact with a filename, got {excerpt(item)}")
        artifacts[filename] = upper
    return artifacts


def _noun(kind: ReasonerType) -> str:
    return "transaction" if kind.is_logic else "job"
