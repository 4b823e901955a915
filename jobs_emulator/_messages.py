"""The HTTP request and response the emulator's API handlers see.

The server (asyncio + httptools) turns bytes into a `Request`, hands it to the handler of the API
that owns the path (Direct Access, the Snowflake wire API, ...), and writes the `Response` back.
Handlers never touch sockets, so they are tested with plain values.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import unquote

import attrs


def parse_json(text: str | bytes) -> Any:
    """Return the JSON value of `text`, which comes from a caller.

    Raise `ValueError` when it is not JSON (Python's `NaN`, `Infinity` and numbers too large for
    a float, such as `1e400`, included), or nests deeper than Python's recursion limit (a hostile
    body of 100,000 `[` is a bad request, not a crash).
    """
    try:
        return json.loads(text, parse_constant=_not_a_number, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None


def _not_a_number(constant: str) -> Any:
    # json.loads takes NaN and Infinity; kept, they would be echoed in answers no JSON parser
    # but Python's reads.
    raise ValueError(f"{constant} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a JSON number")
    return number


@attrs.frozen
class Request:
    method: str
    path: str
    """The path as sent (percent-encoded), without the query string. Route on it, then decode
    each segment (`segments`), so an encoded `/` stays inside its segment."""
    query: dict[str, str]
    """Query parameters, percent-decoded; a repeated name keeps its last value."""
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes = b""
    port: int = 0
    """The local port the request arrived on: the Direct Access API answers on one port only."""

    def segments(self, prefix: str) -> list[str]:
        """Return the decoded, non-empty segments of the path after `prefix`."""
        return [unquote(segment) for segment in self.path[len(prefix) :].split("/") if segment]

    def json(self) -> Any:
        """Return the body parsed as JSON; raise `ValueError` when it is not JSON."""
        return parse_json(self.body)


BODILESS = frozenset({204, 304})
"""Statuses whose answers carry no body (RFC 9110 §6.4.1)."""


@attrs.frozen
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False
    """Close the connection after this response."""

    @classmethod
    def json(cls, status: int, value: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        return cls(
            status,
            json.dumps(value).encode(),
            (("Content-Type", "application/json"), *headers),
        )
