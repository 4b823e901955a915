"""The views of the SQL API, `{app}.api.JOBS` and `{app}.api.transactions`, and selects over them.

Each view is the engine's list of records as rows (a dict per row, keyed by upper-cased column
name), newest first. A select keeps the rows for which every condition holds (SQL semantics: a
NULL never equals anything), orders them stably by one column if asked (NULLs last ascending,
first descending, as Snowflake does by default), then applies OFFSET and LIMIT (a NULL limit is no
limit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from jobs_emulator._engine import Engine
from jobs_emulator._records import JobSnapshot
from jobs_emulator._snowflake_results import (
    BOOLEAN,
    FIXED,
    TEXT,
    TIMESTAMP,
    VARIANT,
    Column,
    ResultSet,
    SqlError,
    compilation_error,
)
from jobs_emulator._sql_expressions import coerce, evaluate
from jobs_emulator._sql_syntax import Expr, SelectView

Row = Mapping[str, Any]


@attrs.frozen
class View:
    name: str
    columns: tuple[Column, ...]
    rows: Callable[[Engine], list[Row]]
    """The view's rows as they stand now, newest first."""

    def result(self, rows: Sequence[Row], names: Sequence[str] | None = None) -> ResultSet:
        """Return `rows` as a result with the columns `names` (every column when `None`).

        Raise `SqlError` (invalid identifier) for a name that is not a column of the view.
        """
        by_name = {column.name: column for column in self.columns}
        for name in names or ():
            if name not in by_name:
                raise compilation_error(f"invalid identifier '{name}'")
        chosen = self.columns if names is None else tuple(by_name[name] for name in names)
        return ResultSet(chosen, tuple(tuple(row[c.name] for c in chosen) for row in rows))


def job_row(job: JobSnapshot) -> Row:
    """Return a job as a row of the JOBS view."""
    return {
        "ID": job.id,
        "REASONER_TYPE": job.kind,
        "REASONER_NAME": job.name,
        "STATE": job.state,
        "CREATED_BY": job.created_by,
        "CREATED_ON": job.created_on,
        "FINISHED_AT": job.finished_at,
        "DURATION": job.duration,
        "PAYLOAD": job.payload,
        "TIMEOUT_MS": job.timeout_ms,
        "ABORT_REASON": job.abort_reason,
    }


def transaction_row(transaction: JobSnapshot) -> Row:
    """Return a transaction as a row of the transactions view."""
    return {
        "ID": transaction.id,
        "DATABASE_NAME": transaction.database,
        "ENGINE_NAME": transaction.name,
        "STATE": transaction.state,
        "ABORT_REASON": transaction.abort_reason,
        "READ_ONLY": transaction.read_only,
        "CREATED_BY": transaction.created_by,
        "CREATED_ON": transaction.created_on,
        "FINISHED_AT": transaction.finished_at,
        "DURATION": transaction.duration,
    }


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, column_type) for name, column_type in pairs)


_TIMES = (("CREATED_ON", TIMESTAMP), ("FINISHED_AT", TIMESTAMP), ("DURATION", FIXED))

JOBS = View(
    "JOBS",
    _columns(
        ("ID", TEXT),
        ("REASONER_TYPE", TEXT),
        ("REASONER_NAME", TEXT),
        ("STATE", TEXT),
        ("CREATED_BY", TEXT),
        *_TIMES,
        ("PAYLOAD", VARIANT),
        ("TIMEOUT_MS", FIXED),
        ("ABORT_REASON", TEXT),
    ),
    lambda engine: [job_row(job) for job in engine.list_jobs()],
)

TRANSACTIONS = View(
    "TRANSACTIONS",
    _columns(
        ("ID", TEXT),
        ("DATABASE_NAME", TEXT),
        ("ENGINE_NAME", TEXT),
        ("STATE", TEXT),
        ("ABORT_REASON", TEXT),
        ("READ_ONLY", BOOLEAN),
        ("CREATED_BY", TEXT),
        *_TIMES,
    ),
    lambda engine: [transaction_row(t) for t in engine.list_transactions()],
)

VIEWS = {("api", view.name): view for view in (JOBS, TRANSACTIONS)}
"""The views by (schema, upper-cased name)."""


def select(view: View, statement: SelectView, params: Sequence[Any], engine: Engine) -> ResultSet:
    """Return the result of `statement` over `view` as it stands in `engine` now.

    Raise `SqlError` for an unknown column or function, or a bad LIMIT or OFFSET.
    """
    rows = view.rows(engine)
    # Checked before filtering so that a bad column fails even when the view is empty.
    empty = dict.fromkeys(column.name for column in view.columns)
    for condition in statement.conditions:
        evaluate(condition.left, params, empty)
    rows = [row for row in rows if _matches(row, statement, params)]
    if statement.order_by is not None:
        rows = _ordered(rows, statement.order_by, statement.descending, empty)
    offset = _count(statement.offset, params, "offset") or 0
    limit = _count(statement.limit, params, "limit")
    rows = rows[offset:] if limit is None else rows[offset : offset + limit]
    return view.result(rows, statement.columns)


def _matches(row: Row, statement: SelectView, params: Sequence[Any]) -> bool:
    for condition in statement.conditions:
        left = evaluate(condition.left, params, row)
        values = [evaluate(value, params, row) for value in condition.values]
        if left is None or left not in [value for value in values if value is not None]:
            return False
    return True


def _ordered(rows: list[Row], column: str, descending: bool, empty: Row) -> list[Row]:
    if column not in empty:
        raise compilation_error(f"invalid identifier '{column}'")

    def key(row: Row) -> tuple[bool, Any]:
        # NULL sorts as the largest value: last ascending, first descending.
        return (row[column] is None, row[column] if row[column] is not None else 0)

    return sorted(rows, key=key, reverse=descending)


def _count(expr: Expr | None, params: Sequence[Any], clause: str) -> int | None:
    if expr is None:
        return None
    value = coerce(evaluate(expr, params), FIXED)
    if value is None:
        return None
    if not isinstance(value, int) or value < 0:
        raise SqlError(
            f"SQL compilation error:\nInvalid row count '{value}' in {clause} clause",
            code="001044",
            sql_state="42000",
        )
    return value
