"""Query answers in Snowflake's JSON result format, and SQL errors the way Snowflake reports them.

A successful query answers `{"success": true, "data": {"queryResultFormat": "json",
"rowtype": [...], "rowset": [[...]], ...}}`. Every cell of `rowset` is a string (or `null`), and the
connector turns it into a Python value by the column's type in `rowtype`:

| type            | cell                                  | the connector returns       |
|-----------------|---------------------------------------|-----------------------------|
| `text`          | the text                              | `str`                       |
| `fixed`         | the integer in decimal                | `int` (scale 0)             |
| `real`          | the float's `repr`                    | `float`                     |
| `boolean`       | `"1"` or `"0"`                        | `bool`                      |
| `timestamp_ltz` | epoch seconds with 9 decimals (scale 9) | aware `datetime` (UTC)    |
| `variant`       | JSON text                             | `str`                       |

Booleans are `"1"`/`"0"` because the 4.x connector reads only `"1"` and `"TRUE"` as true.
Timestamps are `TIMESTAMP_LTZ` and the login answer sets the session `TIMEZONE` to UTC, so both
connector lines return aware UTC datetimes.

A failed query answers `{"success": false, "code": "<vendor code>", "message": ..., "data":
{"sqlState": ..., "queryId": ...}}`, which both connector lines raise as `ProgrammingError` with
`errno`, `sqlstate`, `sfqid` and the message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs

TEXT = "text"
FIXED = "fixed"
REAL = "real"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp_ltz"
VARIANT = "variant"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TEXT_LENGTH = 16_777_216
"""Snowflake's VARCHAR maximum, which is what it reports for unsized text columns."""


@attrs.frozen
class Column:
    """One result column: its name as the client sees it and its Snowflake type (module table)."""

    name: str
    type: str


@attrs.frozen
class ResultSet:
    """The columns and rows of one answer; values are plain Python values (see `encode_cell`)."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...] = ()


class SqlError(Exception):
    """A statement that fails; answered as Snowflake reports a failed query.

    `code` is Snowflake's vendor code (six digits, as text) and `sql_state` the SQLSTATE.
    """

    def __init__(self, message: str, *, code: str, sql_state: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.sql_state = sql_state


def compilation_error(detail: str) -> SqlError:
    """Return the error for a statement that cannot be compiled (Snowflake's 001003 / 42000)."""
    return SqlError(f"SQL compilation error:\n{detail}", code="001003", sql_state="42000")


def result_body(result: ResultSet, query_id: str) -> dict[str, Any]:
    """Return the JSON body that answers a successful query with `result`.

    Raise `TypeError` when a value does not fit its column's type.
    """
    rowset = [
        [encode_cell(column.type, value) for column, value in zip(result.columns, row, strict=True)]
        for row in result.rows
    ]
    return {
        "success": True,
        "code": None,
        "message": None,
        "data": {
            "parameters": [],
            "rowtype": [_rowtype(column) for column in result.columns],
            "rowset": rowset,
            "total": len(rowset),
            "returned": len(rowset),
            "queryId": query_id,
            "queryResultFormat": "json",
            # 4096 is Snowflake's statement type for a SELECT; calls report it too.
            "statementTypeId": 4096,
            "finalDatabaseName": None,
            "finalSchemaName": None,
            "finalWarehouseName": None,
            "finalRoleName": None,
        },
    }


def error_body(error: SqlError, query_id: str | None) -> dict[str, Any]:
    """Return the JSON body that answers a failed query."""
    return {
        "success": False,
        "code": error.code,
        "message": error.message,
        "data": {
            "errorCode": error.code,
            "sqlState": error.sql_state,
            "queryId": query_id,
            "internalError": False,
        },
        "headers": None,
    }


def encode_cell(column_type: str, value: Any) -> str | None:
    """Return `value` as the `rowset` cell of a column of `column_type`; `None` is SQL NULL.

    Raise `TypeError` when the value does not fit the type.
    """
    if value is None:
        return None
    if column_type == TEXT and isinstance(value, str):
        return value
    if column_type == FIXED and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if column_type == REAL and isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    if column_type == BOOLEAN and isinstance(value, bool):
        return "1" if value else "0"
    if column_type == TIMESTAMP and isinstance(value, datetime):
        return _epoch_text(value)
    if column_type == VARIANT:
        return value if isinstance(value, str) else json.dumps(value)
    raise TypeError(f"cannot encode {value!r} as {column_type}")


def column_type_of(values: Sequence[Any]) -> str:
    """Return the narrowest column type that holds every non-null value of `values`.

    Mixed or structured values fall back to `variant` (JSON text).
    """
    kinds = {_type_of(value) for value in values if value is not None}
    if len(kinds) == 1:
        return kinds.pop()
    if kinds == {FIXED, REAL}:
        return REAL
    return TEXT if not kinds else VARIANT


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return FIXED
    if isinstance(value, float):
        return REAL
    if isinstance(value, str):
        return TEXT
    if isinstance(value, datetime):
        return TIMESTAMP
    return VARIANT


def _epoch_text(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    micros = (aware - _EPOCH) // timedelta(microseconds=1)
    return f"{Decimal(micros).scaleb(-6):.9f}"


def _rowtype(column: Column) -> dict[str, Any]:
    sized = column.type == TEXT
    numeric = {FIXED: (38, 0), TIMESTAMP: (0, 9)}.get(column.type)
    return {
        "name": column.name,
        "database": "",
        "schema": "",
        "table": "",
        "type": column.type,
        "nullable": True,
        "length": _TEXT_LENGTH if sized else None,
        "byteLength": _TEXT_LENGTH if sized else None,
        "precision": None if numeric is None else numeric[0],
        "scale": None if numeric is None else numeric[1],
        "collation": None,
    }
