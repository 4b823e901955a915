"""Running one statement of the SQL API: parse it, bind its parameters, and answer from the engine.

Names resolve in the application's namespace: a routine or view must be named
`{app}.{schema}.NAME` (three parts, compared case-insensitively; with no application configured,
any first part is accepted). The schema is `api`, except `app` for `SERVICE_ENDPOINT`. An unknown
view is Snowflake's "does not exist or not authorized" (002003 / 02000); an unknown procedure or
function is its "Unknown user-defined function" (002140 / 42601). Statements outside
`jobs_emulator._sql_syntax`'s shapes are compilation errors that quote the statement
(001003 / 42000).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from jobs_emulator._engine import Engine
from jobs_emulator._snowflake_results import ResultSet, SqlError, compilation_error
from jobs_emulator._sql_expressions import evaluate
from jobs_emulator._sql_routines import FUNCTIONS, PROCEDURES, TABLE_FUNCTIONS, Routine, Session
from jobs_emulator._sql_syntax import (
    Call,
    Expr,
    SelectFunction,
    SelectTableFunction,
    SelectView,
    parse,
)
from jobs_emulator._sql_views import VIEWS, select


@attrs.frozen
class Namespace:
    """Where the application's routines and views live: `{app}.{schema}.NAME`."""

    app: str | None = None
    """`None` accepts any application name."""

    def resolve(self, name: tuple[str, ...]) -> tuple[str, str] | None:
        """Return (lower-cased schema, upper-cased object name) when `name` is in the
        application, else `None`."""
        if len(name) != 3:
            return None
        app, schema, obj = name
        if self.app is not None and app.casefold() != self.app.casefold():
            return None
        return schema.casefold(), obj.upper()


def execute(
    engine: Engine, sql: str, params: Sequence[Any], session: Session, namespace: Namespace
) -> ResultSet:
    """Return the answer to the statement `sql` with the positional `params` bound to its `?`.

    Raise `SqlError` for an unsupported statement, a bad binding count, an unknown name, bad
    arguments, or what the engine refused.
    """
    parsed = parse(sql)
    if parsed.placeholders != len(params):
        raise compilation_error(
            f"the statement has {parsed.placeholders} bind variables (?) but"
            f" {len(params)} values were bound"
        )
    statement = parsed.statement
    if isinstance(statement, SelectView):
        view = VIEWS.get(namespace.resolve(statement.view) or ("", ""))
        if view is None:
            raise SqlError(
                f"SQL compilation error:\nObject '{'.'.join(statement.view)}' does not exist"
                " or not authorized.",
                code="002003",
                sql_state="02000",
            )
        return select(view, statement, params, engine)
    if isinstance(statement, Call):
        routine = _routine(PROCEDURES, statement.routine, namespace, "procedure")
        return _call(routine, engine, session, statement.args, params)
    if isinstance(statement, SelectTableFunction):
        routine = _routine(TABLE_FUNCTIONS, statement.function, namespace, "table function")
        return _call(routine, engine, session, statement.args, params)
    routine = _routine(FUNCTIONS, statement.function, namespace, "function")
    result = _call(routine, engine, session, statement.args, params)
    return _labelled(result, statement)


def _routine(
    table: dict[tuple[str, str], Routine], name: tuple[str, ...], namespace: Namespace, kind: str
) -> Routine:
    routine = table.get(namespace.resolve(name) or ("", ""))
    if routine is None:
        raise SqlError(
            f"SQL compilation error:\nUnknown user-defined {kind} {'.'.join(name)}",
            code="002140",
            sql_state="42601",
        )
    return routine


def _call(
    routine: Routine,
    engine: Engine,
    session: Session,
    args: tuple[Expr, ...],
    params: Sequence[Any],
) -> ResultSet:
    return routine.call(engine, session, [evaluate(arg, params) for arg in args])


def _labelled(result: ResultSet, statement: SelectFunction) -> ResultSet:
    # A scalar function's one column is named after the select item, as Snowflake names it.
    (column,) = result.columns
    return attrs.evolve(result, columns=(attrs.evolve(column, name=statement.label),))
