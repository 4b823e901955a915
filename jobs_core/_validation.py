"""Argument checks that run before a protocol emits its first effect."""

from __future__ import annotations

from typing import Any

from ._errors import JobInvalidRequestError


def require_text(name: str, value: object) -> str:
    """Return `value` stripped, if it is a string that is not blank.

    Raises:
        JobInvalidRequestError: `value` is not a string, or is empty after stripping.
    """
    if not isinstance(value, str) or not value.strip():
        raise JobInvalidRequestError(f"{name} must be a non-empty string, not {value!r}")
    return value.strip()


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
        JobInvalidRequestError: `value` is not a string.
    """
    if not isinstance(value, str):
        raise JobInvalidRequestError(f"{name} must be a string, not {value!r}")
    return value


def require_bool(name: str, value: object) -> bool:
    """Return `value` if it is a bool.

    Raises:
        JobInvalidRequestError: `value` is not a bool.
    """
    if not isinstance(value, bool):
        raise JobInvalidRequestError(f"{name} must be a bool, not {value!r}")
    return value


def require_payload(value: object) -> dict[str, Any]:
    """Return a shallow copy of `value` if it is a dict with string keys.

    Raises:
        JobInvalidRequestError: `value` is not a dict, or has a non-string key.
    """
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise JobInvalidRequestError(f"payload must be a dict with string keys, not {value!r}")
    return dict(value)


def require_positive(name: str, value: object, *, below: float | None = None) -> float:
    """Return `value` as a float if it is a number > 0 (and < `below` when given).

    Raises:
        JobInvalidRequestError: `value` is not a number in that range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise JobInvalidRequestError(f"{name} must be a number > 0, not {value!r}")
    if below is not None and not value < below:
        raise JobInvalidRequestError(f"{name} must be below {below:g}, not {value!r}")
    return float(value)


def optional_int(name: str, value: object, *, minimum: int) -> int | None:
    """Return `value` if it is None or an int >= `minimum`.

    Raises:
        JobInvalidRequestError: `value` is not an int (bools excluded) or is below `minimum`.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise JobInvalidRequestError(f"{name} must be an int >= {minimum}, not {value!r}")
    return value
