"""Values of parsed expressions: bound parameters, literals, columns and the few SQL functions.

Functions: `PARSE_JSON(text)` (the JSON value, NULL for NULL), `UPPER`, `LOWER` and `TRIM` (on text;
NULL stays NULL). Arguments of routines are coerced to their declared type the way Snowflake casts
a bound value: numbers and booleans become text for `text`, numeric text becomes a number for
`fixed`, `'true'`/`'false'` text becomes a boolean for `boolean`; `variant` takes any value. The
types are the column types of `jobs_emulator._snowflake_results`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jobs_emulator._messages import parse_json
from jobs_emulator._snowflake_results import (
    BOOLEAN,
    FIXED,
    TEXT,
    VARIANT,
    SqlError,
    compilation_error,
)
from jobs_emulator._sql_syntax import ColumnRef, Expr, Literal, Placeholder


def evaluate(expr: Expr, params: Sequence[Any], row: Mapping[str, Any] | None = None) -> Any:
    """Return the value of `expr` given the bound `params` and, for columns, the view `row`.

    Raise `SqlError` for a column outside a row (or not in it), an unknown function, a function
    given the wrong number or type of arguments, and text that `PARSE_JSON` cannot parse.
    """
    if isinstance(expr, Placeholder):
        return params[expr.index]
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, ColumnRef):
        if row is None or expr.name not in row:
            raise compilation_error(f"invalid identifier '{expr.name}'")
        return row[expr.name]
    function = _FUNCTIONS.get(expr.name)
    if function is None:
        raise SqlError(
            f"SQL compilation error:\nUnknown function {expr.name}",
            code="002140",
            sql_state="42601",
        )
    if len(expr.args) != 1:
        raise compilation_error(f"function {expr.name} takes one argument, got {len(expr.args)}")
    return function(evaluate(expr.args[0], params, row))


def coerce(value: Any, sql_type: str) -> Any:
    """Return `value` cast to `sql_type` (`text`, `fixed`, `boolean` or `variant`); `None` (NULL)
    stays `None`.

    Raise `SqlError` when the value cannot be cast, as Snowflake reports it (100038 / 22018).
    """
    if value is None or sql_type == VARIANT:
        return value
    if sql_type == TEXT:
        return _to_text(value)
    if sql_type == FIXED:
        return _to_number(value)
    if sql_type == BOOLEAN:
        return _to_boolean(value)
    raise ValueError(f"no cast to {sql_type!r}")


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return json.dumps(value)


def _to_number(value: Any) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return parse(value.strip())
            except ValueError:
                continue
    raise _not_recognized("Numeric", value)


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "t", "yes", "y", "on", "1"):
        return True
    if text in ("false", "f", "no", "n", "off", "0"):
        return False
    raise _not_recognized("Boolean", value)


def _not_recognized(kind: str, value: Any) -> SqlError:
    return SqlError(f"{kind} value '{value}' is not recognized", code="100038", sql_state="22018")


def _parse_json(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return parse_json(value)
    except ValueError as exc:
        raise SqlError(
            f"Error parsing JSON: {exc}, value: {value!r}", code="100069", sql_state="22P02"
        ) from None


def _text_function(apply: Callable[[str], str]) -> Callable[[Any], Any]:
    def function(value: Any) -> Any:
        return None if value is None else apply(_to_text(value))

    return function


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "PARSE_JSON": _parse_json,
    "UPPER": _text_function(str.upper),
    "LOWER": _text_function(str.lower),
    "TRIM": _text_function(str.strip),
}
