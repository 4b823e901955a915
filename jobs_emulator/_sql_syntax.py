"""The few statement shapes of the SQL API, parsed from text into values.

Not a SQL parser: a tokenizer and a small recursive descent over exactly these forms (keywords and
unquoted names in any case, any whitespace, an optional trailing `;`):

    CALL db.schema.routine(expr, ...)
    SELECT db.schema.function(expr, ...)
    SELECT * FROM TABLE(db.schema.function(expr, ...))
    SELECT * | column, ... FROM db.schema.view
        [WHERE condition AND ...] [ORDER BY column [ASC | DESC]] [LIMIT expr [OFFSET expr]]

where an expression is `?` (bound by position), a string or number literal, `NULL`, `TRUE`,
`FALSE`, a column, or a function call such as `PARSE_JSON(?)` or `UPPER(TRIM(col))`; and a
condition is `expr = expr` or `expr IN (expr, ...)`. Which names and functions exist is decided
when the statement runs (`jobs_emulator._sql_statements`), not here.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

import attrs

from jobs_emulator._snowflake_results import SqlError, compilation_error

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<quoted>"(?:[^"]|"")+")
      | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
      | (?P<symbol>[?(),.=*;])
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {"CALL", "SELECT", "FROM", "TABLE", "WHERE", "AND", "IN", "ORDER", "BY", "ASC", "DESC"}
    | {"LIMIT", "OFFSET", "NULL", "TRUE", "FALSE"}
)


@attrs.frozen
class Placeholder:
    """A `?`; `index` counts placeholders from 0 in the order they appear."""

    index: int


@attrs.frozen
class Literal:
    value: Any


@attrs.frozen
class ColumnRef:
    name: str
    """Upper-cased unless it was quoted."""


@attrs.frozen
class FunctionCall:
    name: str
    """Upper-cased."""
    args: tuple[Expr, ...]


Expr: TypeAlias = "Placeholder | Literal | ColumnRef | FunctionCall"


@attrs.frozen
class Condition:
    """`left = value` (one value) or `left IN (values)`."""

    left: Expr
    values: tuple[Expr, ...]


@attrs.frozen
class Call:
    routine: tuple[str, ...]
    """The dotted name, each part upper-cased unless quoted."""
    args: tuple[Expr, ...]


@attrs.frozen
class SelectFunction:
    function: tuple[str, ...]
    args: tuple[Expr, ...]
    label: str
    """The select item as written, upper-cased: the result column's name, as Snowflake names it."""


@attrs.frozen
class SelectTableFunction:
    function: tuple[str, ...]
    args: tuple[Expr, ...]


@attrs.frozen
class SelectView:
    view: tuple[str, ...]
    columns: tuple[str, ...] | None
    """`None` for `*`."""
    conditions: tuple[Condition, ...] = ()
    order_by: str | None = None
    descending: bool = False
    limit: Expr | None = None
    offset: Expr | None = None


Statement: TypeAlias = "Call | SelectFunction | SelectTableFunction | SelectView"


@attrs.frozen
class Parsed:
    statement: Statement
    placeholders: int
    """How many `?` the statement holds, so the bindings can be checked against it."""


def parse(sql: str) -> Parsed:
    """Return the statement `sql` holds and its number of placeholders.

    Raise `SqlError` (a compilation error that quotes the statement) for anything that is not
    one of the module's shapes.
    """
    parser = _Parser(sql)
    statement = parser.statement()
    return Parsed(statement, parser.placeholders)


def normalised(sql: str) -> str:
    """Return `sql` with runs of whitespace collapsed to one space and the ends trimmed."""
    return " ".join(sql.split())


@attrs.frozen
class _Token:
    kind: str
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = self._tokenize(sql)
        self.position = 0
        self.placeholders = 0

    def statement(self) -> Statement:
        first = self._peek()
        if first is not None and first.is_word("CALL"):
            self._next()
            name = self._name()
            result: Statement = Call(name, self._arguments())
        elif first is not None and first.is_word("SELECT"):
            self._next()
            result = self._select()
        else:
            raise self._error("expected CALL or SELECT", first)
        if self._peek() is not None and self._peek_symbol(";"):
            self._next()
        if self._peek() is not None:
            raise self._error("unexpected text after the statement", self._peek())
        return result

    def _select(self) -> Statement:
        first = self.position
        if self._peek_symbol("*"):
            self._next()
            self._keyword("FROM")
            if self._peek_word("TABLE"):
                self._next()
                self._symbol("(")
                function = self._name()
                args = self._arguments()
                self._symbol(")")
                return SelectTableFunction(function, args)
            return self._view(None)
        columns = [self._name()]
        if self._peek_symbol("("):
            args = self._arguments()
            text = self.sql[self.tokens[first].start : self.tokens[self.position - 1].end]
            label = normalised(text)
            return SelectFunction(columns[0], args, label.upper())
        while self._peek_symbol(","):
            self._next()
            columns.append(self._name())
        self._keyword("FROM")
        return self._view(tuple(_column_name(column) for column in columns))

    def _view(self, columns: tuple[str, ...] | None) -> SelectView:
        view = self._name()
        conditions: list[Condition] = []
        if self._peek_word("WHERE"):
            self._next()
            conditions.append(self._condition())
            while self._peek_word("AND"):
                self._next()
                conditions.append(self._condition())
        order_by, descending = None, False
        if self._peek_word("ORDER"):
            self._next()
            self._keyword("BY")
            order_by = _column_name(self._name())
            if self._peek_word("ASC", "DESC"):
                descending = self._next().text.upper() == "DESC"
        limit = offset = None
        if self._peek_word("LIMIT"):
            self._next()
            limit = self._expression()
            if self._peek_word("OFFSET"):
                self._next()
                offset = self._expression()
        return SelectView(view, columns, tuple(conditions), order_by, descending, limit, offset)

    def _condition(self) -> Condition:
        left = self._expression()
        if self._peek_word("IN"):
            self._next()
            return Condition(left, self._arguments())
        self._symbol("=")
        return Condition(left, (self._expression(),))

    def _arguments(self) -> tuple[Expr, ...]:
        self._symbol("(")
        args: list[Expr] = []
        if not self._peek_symbol(")"):
            args.append(self._expression())
            while self._peek_symbol(","):
                self._next()
                args.append(self._expression())
        self._symbol(")")
        return tuple(args)

    def _expression(self) -> Expr:
        token = self._peek()
        if token is None:
            raise self._error("expected an expression", None)
        if token.kind == "symbol" and token.text == "?":
            self._next()
            self.placeholders += 1
            return Placeholder(self.placeholders - 1)
        if token.kind == "string":
            self._next()
            return Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            self._next()
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if token.is_word("NULL", "TRUE", "FALSE"):
            self._next()
            return Literal({"NULL": None, "TRUE": True, "FALSE": False}[token.text.upper()])
        name = self._name()
        if self._peek_symbol("("):
            return FunctionCall(".".join(name), self._arguments())
        return ColumnRef(_column_name(name))

    def _name(self) -> tuple[str, ...]:
        parts = [self._identifier()]
        while self._peek_symbol("."):
            self._next()
            parts.append(self._identifier())
        return tuple(parts)

    def _identifier(self) -> str:
        token = self._peek()
        if token is not None and token.kind == "quoted":
            self._next()
            return token.text[1:-1].replace('""', '"')
        if token is not None and token.kind == "word" and token.text.upper() not in _KEYWORDS:
            self._next()
            return token.text.upper()
        raise self._error("expected a name", token)

    def _keyword(self, word: str) -> None:
        if not self._peek_word(word):
            raise self._error(f"expected {word}", self._peek())
        self._next()

    def _symbol(self, symbol: str) -> None:
        if not self._peek_symbol(symbol):
            raise self._error(f"expected '{symbol}'", self._peek())
        self._next()

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _peek_word(self, *words: str) -> bool:
        token = self._peek()
        return token is not None and token.is_word(*words)

    def _peek_symbol(self, symbol: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "symbol" and token.text == symbol

    def _next(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _error(self, expected: str, token: _Token | None) -> SqlError:
        where = "at the end" if token is None else f"at position {token.start}, near {token.text!r}"
        return unsupported(self.sql, f"{expected} {where}")

    def _tokenize(self, sql: str) -> list[_Token]:
        tokens: list[_Token] = []
        position, end = 0, len(sql.rstrip())
        while position < end:
            match = _TOKEN.match(sql, position)
            if match is None or match.lastgroup is None:
                offset = len(sql) - len(sql[position:].lstrip())
                raise unsupported(sql, f"unexpected character at position {offset}")
            kind = match.lastgroup
            tokens.append(_Token(kind, match.group(kind), match.start(kind), match.end()))
            position = match.end()
        return tokens


def unsupported(sql: str, detail: str) -> SqlError:
    """Return the compilation error for a statement the SQL API does not answer."""
    return compilation_error(
        f"unsupported statement {normalised(sql)!r} ({detail}); the jobs emulator answers only"
        " the statements of its SQL API"
    )


def _column_name(name: tuple[str, ...]) -> str:
    # Columns may be qualified (`t.ID`); only the last part names the column.
    return name[-1]
