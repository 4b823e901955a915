"""Effects, replies, thrown failures and the client configuration as plain JSON values, and
back, for cassettes.

Every effect, reply object and failure becomes an object whose first key, `type`, names its class,
followed by its fields under their own names. Values JSON has no exact form for are tagged
objects with a single key:

- bodies: UTF-8 text as a string; other bytes as ``{"$base64": "..."}``;
- SQL parameters and cells: ``{"$datetime": iso}``, ``{"$date": iso}``, ``{"$decimal": text}``,
  and ``{"$float": "nan" | "inf" | "-inf"}``; strings, ints, finite floats, bools and None as
  themselves.

An effect's `deadline` (and a request's `origin`) is left out when it is None. Its `persist` is
never written: it only says how the endpoint discovery and token exchange a driver runs beside a
call retry, and that work is not recorded; a replayed call persists as the recorded one did.

A `Gather` is ``{"type": "Gather", "limit": n, "count": k}``: its sub-protocols are code, not
data. Effects are only ever written (a replayer compares what a run emits, as JSON, with what was
recorded); replies and failures are read back. A `Now` reply is a number, a `Sleep`,
`RefreshEndpoint` or `RenewToken` reply null; a `SignAssertion` reply (a credential) is never
recorded. `Gather` replies (results and exceptions of sub-protocols) are not
serialised: a replayer runs the sub-protocols again against the cassette.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._config import ClientConfig, PollPolicy, RetryPolicy
from ._effects import (
    Effect,
    Gather,
    Headers,
    HttpRequest,
    HttpResponse,
    Now,
    RefreshEndpoint,
    RenewToken,
    Reply,
    SignAssertion,
    Sleep,
    SqlCell,
    SqlFailure,
    SqlQuery,
    SqlRows,
    TransportError,
)
from ._errors import JobConfigurationError

_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_TINY_OFFSET = re.compile(r"([+-])00:00:00\.(\d{6})$")


def _body_to_json(body: bytes) -> Any:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"$base64": base64.b64encode(body).decode("ascii")}


def _body_from_json(value: Any, _: object) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("$base64"), str):
        try:
            return base64.b64decode(value["$base64"], validate=True)
        except binascii.Error as exc:
            raise ValueError(f"invalid base64 body: {exc}") from exc
    raise ValueError(f"expected a body, got {value!r}")


def _headers_to_json(headers: Headers) -> list[list[str]]:
    return [[name, value] for name, value in headers]


def _headers_from_json(value: Any, _: object) -> Headers:
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        for pair in value
    ):
        raise ValueError(f"expected a list of [name, value] pairs, got {value!r}")
    return tuple((name, text) for name, text in value)


def cell_to_json(cell: SqlCell) -> Any:
    """Return a SQL parameter or cell as a JSON value, tagged when JSON has no exact form for it."""
    # datetime before date: a datetime is a date too.
    if isinstance(cell, dt.datetime):
        return {"$datetime": cell.isoformat()}
    if isinstance(cell, dt.date):
        return {"$date": cell.isoformat()}
    if isinstance(cell, decimal.Decimal):
        return {"$decimal": str(cell)}
    if isinstance(cell, float) and not math.isfinite(cell):
        return {"$float": "nan" if math.isnan(cell) else ("inf" if cell > 0 else "-inf")}
    return cell


def _datetime_from_iso(text: str) -> dt.datetime:
    """Return the datetime `isoformat` wrote as `text`.

    `fromisoformat` reads an offset of under a second (``+00:00:00.000001``) as UTC: such an
    offset is read here.
    """
    value = dt.datetime.fromisoformat(text)
    tiny = _TINY_OFFSET.search(text)
    if tiny is None or value.tzinfo is None:
        return value
    sign, microseconds = tiny.groups()
    offset = dt.timedelta(microseconds=int(microseconds))
    return value.replace(tzinfo=dt.timezone(-offset if sign == "-" else offset))


def cell_from_json(value: Any) -> SqlCell:
    """Return the SQL parameter or cell `value` encodes (see `cell_to_json`).

    Raises:
        ValueError: `value` is neither a JSON scalar nor a known tagged object.
    """
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if isinstance(text, str):
            if tag == "$datetime":
                return _datetime_from_iso(text)
            if tag == "$date":
                return dt.date.fromisoformat(text)
            if tag == "$decimal":
                try:
                    return decimal.Decimal(text)
                except decimal.InvalidOperation as exc:
                    raise ValueError(f"invalid decimal {text!r}") from exc
            if tag == "$float" and text in _FLOATS:
                return _FLOATS[text]
    raise ValueError(f"expected a SQL value, got {value!r}")


def _cells_from_json(value: Any, _: object) -> tuple[SqlCell, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of SQL values, got {value!r}")
    return tuple(cell_from_json(cell) for cell in value)


def _rows_from_json(value: Any, _: object) -> tuple[tuple[SqlCell, ...], ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of rows, got {value!r}")
    return tuple(_cells_from_json(row, None) for row in value)


def _columns_from_json(value: Any, _: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"expected a list of column names, got {value!r}")
    return tuple(value)


_FIELD_HOOKS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, object], Any]]] = {
    "body": (_body_to_json, _body_from_json),
    "headers": (_headers_to_json, _headers_from_json),
    "params": (lambda cells: [cell_to_json(c) for c in cells], _cells_from_json),
    "columns": (list, _columns_from_json),
    "rows": (lambda rows: [[cell_to_json(c) for c in row] for row in rows], _rows_from_json),
}
_RECORDED = (
    HttpRequest,
    HttpResponse,
    SqlQuery,
    SqlRows,
    Sleep,
    Now,
    RefreshEndpoint,
    RenewToken,
    SignAssertion,
)
# Fields added after cassettes existed: left out while they have their default (None), so
# older cassettes still match.
_OPTIONAL_FIELDS = ("deadline", "origin")
# Fields that never reach a cassette (see the module's docstring): a cassette recorded before
# they existed still matches.
_UNRECORDED_FIELDS = ("persist",)


def _exactly(kind: type[Any], *also: type[Any]) -> Callable[[Any, object], Any]:
    """Return a structure hook that takes a JSON value of type `kind` (or of `also`, made a
    `kind`) and refuses any other: cattrs's own hooks convert it (``bool("false")`` is True,
    ``int(True)`` is 1), so an edited cassette would replay as something it never recorded."""
    accepted = (kind, *also)

    def structure(value: Any, _: object) -> Any:
        if type(value) not in accepted:
            raise ValueError(f"expected {kind.__name__}, got {value!r:.80}")
        return kind(value)

    return structure


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    # Registered first: the generated functions below bind the hooks of their fields' types.
    for kind, also in ((bool, ()), (int, ()), (float, (int,)), (str, ())):
        converter.register_structure_hook(kind, _exactly(kind, *also))
    for cls in _RECORDED:
        names = [field.name for field in attrs.fields(cls) if field.name in _FIELD_HOOKS]
        unstructure_overrides: dict[str, Any] = {
            name: override(unstruct_hook=_FIELD_HOOKS[name][0]) for name in names
        }
        for field in attrs.fields(cls):
            if field.name in _OPTIONAL_FIELDS:
                unstructure_overrides[field.name] = override(omit_if_default=True)
            elif field.name in _UNRECORDED_FIELDS:
                unstructure_overrides[field.name] = override(omit=True)
        structure_overrides: dict[str, Any] = {
            name: override(struct_hook=_FIELD_HOOKS[name][1]) for name in names
        }
        unstructure = make_dict_unstructure_fn(cls, converter, **unstructure_overrides)
        structure = make_dict_structure_fn(cls, converter, **structure_overrides)
        converter.register_unstructure_hook(cls, _tagged(cls.__name__, unstructure))
        # The generated function ignores keys it does not know, `type` included.
        converter.register_structure_hook(cls, structure)
    converter.register_unstructure_hook(
        Gather, lambda g: {"type": "Gather", "limit": g.limit, "count": len(g.protocols)}
    )
    # A key the configuration does not have means a cassette of another version, or edited.
    # The policies first: the configuration's function takes the hooks registered by then.
    # The client's secrets never reach a cassette, and a header naming them is refused.
    secret: dict[str, Any] = {"secrets": override(omit=True)}
    for settings in (RetryPolicy, PollPolicy, ClientConfig):
        omitted = secret if settings is ClientConfig else {}
        strict = make_dict_structure_fn(
            settings, converter, _cattrs_forbid_extra_keys=True, **omitted
        )
        converter.register_structure_hook(settings, strict)
    converter.register_unstructure_hook(
        ClientConfig, make_dict_unstructure_fn(ClientConfig, converter, **secret)
    )
    return converter


def _tagged(name: str, unstructure: Callable[[Any], dict[str, Any]]) -> Callable[[Any], Any]:
    return lambda value: {"type": name, **unstructure(value)}


_CONVERTER = _make_converter()
_REPLIES: dict[str, type[Any]] = {cls.__name__: cls for cls in (HttpResponse, SqlRows)}


def _structure(value: Any, classes: dict[str, type[Any]], what: str) -> Any:
    tag = value.get("type") if isinstance(value, dict) else None
    cls = classes.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise ValueError(f"expected a recorded {what} ({', '.join(classes)}), got {value!r:.200}")
    try:
        return _CONVERTER.structure(value, cls)
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"unusable recorded {cls.__name__}: {value!r:.200}") from exc


def effect_to_json(effect: Effect) -> dict[str, Any]:
    """Return `effect` as a JSON object (see the module's docstring)."""
    result: dict[str, Any] = _CONVERTER.unstructure(effect, type(effect))
    return result


def config_to_json(config: ClientConfig) -> dict[str, Any]:
    """Return `config` as the JSON object of a cassette's header."""
    result: dict[str, Any] = _CONVERTER.unstructure(config, ClientConfig)
    return result


def config_from_json(value: Any) -> ClientConfig:
    """Return the configuration `value` (from `config_to_json`) describes.

    Raises:
        ValueError: `value` is not a configuration, has a key a configuration does not, or
            settings a configuration refuses (`JobConfigurationError`).
    """
    if not isinstance(value, dict):
        raise ValueError(f"expected a configuration object, got {type(value).__name__}")
    try:
        config: ClientConfig = _CONVERTER.structure(value, ClientConfig)
    except cattrs.BaseValidationError as exc:
        # Each refused setting by its path (``expected bool @ $.http``), not "1 sub-exception".
        raise ValueError("; ".join(cattrs.transform_error(exc))) from exc
    except (
        KeyError,
        TypeError,
        ValueError,
        OverflowError,
        JobConfigurationError,
    ) as exc:
        raise ValueError(str(exc)) from exc
    return config


def reply_to_json(reply: Reply) -> Any:
    """Return a reply as a JSON value: an object for responses and rows, a number, or None.

    Raises:
        TypeError: `reply` is a `Gather` result list, which is not recorded.
    """
    if reply is None or isinstance(reply, HttpResponse | SqlRows):
        return _CONVERTER.unstructure(reply, type(reply))
    if isinstance(reply, int | float) and not isinstance(reply, bool):
        return float(reply)
    raise TypeError(f"{type(reply).__name__} replies are not recorded")


def reply_from_json(value: Any) -> Reply:
    """Return the reply `value` (from `reply_to_json`) describes.

    Raises:
        ValueError: `value` is not a recorded reply.
    """
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError as exc:
            raise ValueError(f"{str(value)[:20]}... is not a time") from exc
    reply: Reply = _structure(value, _REPLIES, "reply")
    return reply


def failure_to_json(failure: TransportError | SqlFailure) -> dict[str, Any]:
    """Return a failure a driver throws into a protocol as a JSON object."""
    if isinstance(failure, TransportError):
        recorded = {
            "type": "TransportError",
            "message": failure.message,
            "request_sent": failure.request_sent,
            "timeout": failure.timeout,
        }
        # Added after cassettes existed: written only when set, as an effect's optional fields.
        return {**recorded, "too_large": True} if failure.too_large else recorded
    recorded = {
        "type": "SqlFailure",
        "message": failure.message,
        "errno": failure.errno,
        "sqlstate": failure.sqlstate,
        "connection_lost": failure.connection_lost,
    }
    # Added after cassettes existed: written only when they differ from their defaults.
    if not failure.reconnects:
        recorded["reconnects"] = False
    if not failure.statement_sent:
        recorded["statement_sent"] = False
    return recorded


def failure_from_json(value: Any) -> TransportError | SqlFailure:
    """Return the failure `value` (from `failure_to_json`) describes.

    Raises:
        ValueError: `value` is not a recorded failure.
    """
    kind = value.get("type") if isinstance(value, dict) else None
    try:
        if kind == "TransportError":
            return TransportError(
                _typed(value, "message", str),
                request_sent=_typed(value, "request_sent", bool),
                timeout=_typed(value, "timeout", bool),
                too_large="too_large" in value and _typed(value, "too_large", bool),
            )
        if kind == "SqlFailure":
            errno = value.get("errno")
            return SqlFailure(
                _typed(value, "message", str),
                errno=None if errno is None else _typed(value, "errno", int),
                sqlstate=None if value.get("sqlstate") is None else _typed(value, "sqlstate", str),
                connection_lost=_typed(value, "connection_lost", bool),
                reconnects="reconnects" not in value or _typed(value, "reconnects", bool),
                statement_sent="statement_sent" not in value
                or _typed(value, "statement_sent", bool),
            )
    except KeyError as exc:
        raise ValueError(f"recorded {kind} lacks {exc}") from exc
    raise ValueError(f"expected a recorded failure, got {value!r:.200}")


def _typed(value: dict[str, Any], key: str, cls: type[Any]) -> Any:
    item = value[key]
    if not isinstance(item, cls) or (cls is int and isinstance(item, bool)):
        raise ValueError(f"recorded {key} must be {cls.__name__}, got {item!r}")
    return item
