"""The HTTP request and response the emulator's API handlers see.

The server (trio + h11) turns bytes into a `Request`, hands it to the handler of the API that owns
the path (Direct Access or the Snowflake wire API), and writes the `Response` back. Handlers never
touch sockets, so they are tested with plain values.
"""

from __future__ import annotations

import json
from typing import Any

import attrs


@attrs.frozen
class Request:
    method: str
    path: str
    """The percent-decoded path, without the query string."""
    query: dict[str, str]
    """Query parameters, percent-decoded; a repeated name keeps its last value."""
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes = b""
    port: int = 0
    """The local port the request arrived on: the Direct Access API answers on one port only."""

    def json(self) -> Any:
        """The body parsed as JSON; raises `ValueError` when it is not JSON."""
        return json.loads(self.body)


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
