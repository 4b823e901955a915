"""Scripts: how a job behaves, read from an `"emulate"` object.

A script is a JSON object with any of these keys (all optional):

- `duration_s` (finite number >= 0): emulator seconds from creation to the outcome. Default 0.5.
- `outcome`: `COMPLETED` (default), `FAILED` or `ABORTED`.
- `abort_reason` (string): the record's `abort_reason` once the outcome is reached.
- `events` (int >= 0): exactly this many progress events, spread evenly over the run. Default 3.
- `artifacts` (transactions): a list of file names, or of objects with a `filename` and more fields.
- `problems` (transactions): a list of objects such as `{"type": ..., "message": ...}`.
- `not_ready` (bool): the create is refused as "not ready" and no record is made.

Scripts layer: later layers override the keys they set (see `Script.merged`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from jobs_emulator._errors import InvalidRequest
from jobs_emulator._validation import finite_number, flag

OUTCOMES = ("COMPLETED", "FAILED", "ABORTED")


@attrs.frozen
class Script:
    """A parsed, validated script."""

    duration_s: float = 0.5
    outcome: str = "COMPLETED"
    abort_reason: str | None = None
    events: int = 3
    artifacts: tuple[Mapping[str, Any], ...] = ()
    problems: tuple[Mapping[str, Any], ...] = ()
    not_ready: bool = False

    def merged(self, layer: Mapping[str, Any] | None) -> Script:
        """Return this script with the keys of the `emulate` object `layer` applied on top.

        Raise `InvalidRequest` when `layer` is not an object, has an unknown key or a bad value.
        """
        if layer is None:
            return self
        if not isinstance(layer, Mapping):
            raise InvalidRequest("emulate must be a JSON object")
        unknown = sorted(set(layer) - set(_PARSERS))
        if unknown:
            raise InvalidRequest(
                f"unknown emulate keys {unknown}; expected some of {sorted(_PARSERS)}"
            )
        changes = {key: _PARSERS[key](value) for key, value in layer.items()}
        return attrs.evolve(self, **changes)


def _duration(value: Any) -> float:
    number = finite_number(value)
    if number is None or number < 0:
        raise InvalidRequest(f"emulate.duration_s must be a finite number >= 0, got {value!r}")
    return number


def _outcome(value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in OUTCOMES:
        raise InvalidRequest(f"emulate.outcome must be one of {list(OUTCOMES)}, got {value!r}")
    return value.strip().upper()


def _optional_text(value: Any, key: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"emulate.{key} must be a string, got {value!r}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"emulate.events must be an integer >= 0, got {value!r}")
    return value


def _artifacts(value: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list):
        raise InvalidRequest("emulate.artifacts must be a list")
    artifacts: list[Mapping[str, Any]] = []
    for item in value:
        if isinstance(item, str):
            artifacts.append({"filename": item})
        elif isinstance(item, Mapping) and isinstance(item.get("filename"), str):
            artifacts.append(dict(item))
        else:
            raise InvalidRequest(
                f"each of emulate.artifacts must be a file name or an object with a filename,"
                f" got {item!r}"
            )
    return tuple(artifacts)


def _problems(value: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise InvalidRequest("emulate.problems must be a list of objects")
    return tuple(dict(item) for item in value)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "duration_s": _duration,
    "outcome": _outcome,
    "abort_reason": lambda value: _optional_text(value, "abort_reason"),
    "events": _count,
    "artifacts": _artifacts,
    "problems": _problems,
    "not_ready": lambda value: flag(value, "emulate.not_ready"),
}
"""Each script key and the function that checks and normalises its value."""
