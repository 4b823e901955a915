"""Argument checks that run before a protocol emits its first effect.

Their messages quote a refused value through `excerpt` (bounded, whatever its size) and never
quote a payload, which may hold secrets.
"""

from __future__ import annotations

import math
from typing import Any

from ._errors import JobInvalidRequestError, excerpt


def require_text(name: str, value: object) -> str:
    """Return `value` stripped, if it is a string that is not blank.

    Raises:
        JobInvalidRequestError: `value` is not a string, is empty after stripping, or is not
            text UTF-8 can carry.
    """
    if isinstance(value, str) and (stripped := value.strip()):
        if not value.isascii():  # ASCII, as nearly every argument is, needs no other check
            _require_encodable(name, value)
        return stripped
    raise JobInvalidRequestError(f"{name} must be a non-empty string, not {excerpt(value)}")


def _require_encodable(name: str, value: str) -> None:
    """Check that UTF-8 can encode `value`: a lone surrogate (text decoded with
    ``surrogateescape``, a broken UTF-16 pair) has no form in a URL, a header or JSON.

    Raises:
        JobInvalidRequestError: `value` holds a lone surrogate.
    """
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise JobInvalidRequestError(
            f"{name} must be valid Unicode text, not {excerpt(value)}: it holds a lone"
            f" surrogate at index {exc.start}"
        ) from None


DOT_SEGMENTS = frozenset({".", ".."})
"""Path segments that mean "this" and "parent": a proxy that normalises paths would send a
request naming them to another resource, and percent-encoding does not stop it (RFC 3986 lets
normalisers decode ``%2E``)."""


def require_segment(name: str, value: object) -> str:
    """Return `value` stripped, if it is a non-blank string usable as one URL path segment.

    Raises:
        JobInvalidRequestError: `value` is not a string, is blank, or is ``.`` or ``..``.
    """
    text = require_text(name, value)
    if text in DOT_SEGMENTS:
        raise JobInvalidRequestError(
            f"{name} cannot be {text!r}: it would be read as a relative path segment"
        )
    return text


def optional_segment(name: str, value: object) -> str | None:
    """Return `value` as `require_segment` does, or None when it is None.

    Raises:
        JobInvalidRequestError: `value` is neither None nor usable as a path segment.
    """
    return None if value is None else require_segment(name, value)


def optional_text(name: str, value: object) -> str | None:
    """Return `value` stripped, or None when it is None (a filter that was not given).

    Raises:
        JobInvalidRequestError: `value` is neither None nor a non-blank string.
    """
    return None if value is None else require_text(name, value)


def require_string(name: str, value: object) -> str:
    """Return `value` if it is a string (empty allowed).

    Raises:
        JobInvalidRequestError: `value` is not a string, or is not text UTF-8 can carry.
    """
    if not isinstance(value, str):
        raise JobInvalidRequestError(f"{name} must be a string, not {excerpt(value)}")
    if not value.isascii():
        _require_encodable(name, value)
    return value


def require_bool(name: str, value: object) -> bool:
    """Return `value` if it is a bool.

    Raises:
        JobInvalidRequestError: `value` is not a bool.
    """
    if not isinstance(value, bool):
        raise JobInvalidRequestError(f"{name} must be a bool, not {excerpt(value)}")
    return value


def require_payload(value: object) -> dict[str, Any]:
    """Return a shallow copy of `value` if it is a dict with string keys.

    Raises:
        JobInvalidRequestError: `value` is not a dict, or has a non-string key.
    """
    if not isinstance(value, dict):
        raise JobInvalidRequestError(f"payload must be a dict, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise JobInvalidRequestError(f"payload keys must be strings, not {type(key).__name__}")
    return dict(value)


def require_positive(name: str, value: object, *, below: float | None = None) -> float:
    """Return `value` as a float if it is a number > 0 (and < `below` when given); an int too
    large for a float is `math.inf`.

    Raises:
        JobInvalidRequestError: `value` is not a number in that range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise JobInvalidRequestError(f"{name} must be a number > 0, not {excerpt(value)}")
    if below is not None and not value < below:
        raise JobInvalidRequestError(f"{name} must be below {below:g}, not {excerpt(value)}")
    try:
        return float(value)
    except OverflowError:  # an int past the largest float: longer than any clock runs
        return math.inf


WIRE_INT_MAX = 2**63 - 1
"""The largest int either API carries: the service reads JSON numbers and binds SQL parameters
as signed 64-bit integers (past that, the SQL driver cannot even bind an int of 4300 digits)."""


def optional_int(
    name: str, value: object, *, minimum: int, maximum: int = WIRE_INT_MAX
) -> int | None:
    """Return `value` if it is None or an int from `minimum` to `maximum`.

    Raises:
        JobInvalidRequestError: `value` is not an int (bools excluded) or is out of that range.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise JobInvalidRequestError(
            f"{name} must be an int from {minimum} to {maximum}, not {excerpt(value)}"
        )
    return value
