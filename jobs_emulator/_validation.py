"""Checks on caller-supplied values, shared by the engine and the HTTP handlers; failures raise
`InvalidRequest` with a message that names the field."""

from __future__ import annotations

import math
from typing import Any

from jobs_emulator._errors import InvalidRequest
from jobs_emulator._messages import Request


def required_text(value: Any, field: str) -> str:
    """Return `value` when it is a non-empty string; raise `InvalidRequest` otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} is required and must be a non-empty string")
    return value


def finite_number(value: Any) -> float | None:
    """Return `value` as a float when it is a finite int or float (not a bool); else `None`.

    JSON text can hold `NaN`, `Infinity`, `1e400` (infinite as a float) and integers too large for
    a float: none of them is a time or a count a record can be computed from.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def flag(value: Any, field: str) -> bool:
    """Return `value` when it is a bool; raise `InvalidRequest` otherwise."""
    if not isinstance(value, bool):
        raise InvalidRequest(f"{field} must be true or false, got {value!r}")
    return value


def json_object(request: Request) -> dict[str, Any]:
    """Return the request body parsed as a JSON object.

    Raise `InvalidRequest` when the body is not JSON or not an object.
    """
    try:
        body = request.json()
    except ValueError:
        raise InvalidRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body
