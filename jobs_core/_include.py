"""`include=`: which expansions a call asks for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import attrs

from ._errors import JobInvalidRequestError, excerpt
from ._models import ReasonerType

INCLUDE_KEYS = ("details", "events", "artifacts", "problems", "raw")
LOGIC_ONLY_KEYS = frozenset({"artifacts", "problems"})


class JobIncludeDict(TypedDict, total=False):
    """The `include=` argument: the expansions to add, each True to ask for it."""

    details: bool
    events: bool
    artifacts: bool
    problems: bool
    raw: bool


@attrs.frozen
class Include:
    """The expansions asked for; `Include()` asks for none.

    `given` is True when the call was passed an `include=` mapping, even one that asks for
    nothing: the call then returns `JobExpanded`s (their unasked expansions None), as its type says.
    """

    given: bool = False
    details: bool = False
    events: bool = False
    artifacts: bool = False
    problems: bool = False
    raw: bool = False

    def __bool__(self) -> bool:
        """True when the call returns `JobExpanded`s: `include=` was given or asks for more."""
        # Read on every call: plain attribute reads rather than `attrs.astuple`.
        return (
            self.given or self.details or self.events or self.artifacts or self.problems or self.raw
        )


_NOTHING = Include()


def parse_include(include: object, kinds: tuple[ReasonerType, ...]) -> Include:
    """Return the expansions `include` asks for, for calls on jobs of `kinds`.

    Only keys mapped to True count; keys are matched case-insensitively, surrounding spaces ignored.

    Raises:
        JobInvalidRequestError: `include` is not a mapping, has an unknown or non-string key or a
            non-bool value, or asks for artifacts/problems when a kind is not Logic.
    """
    if include is None:
        return _NOTHING
    if not isinstance(include, Mapping):
        raise JobInvalidRequestError(
            f"include must be a dict of str to bool, not {excerpt(include)}"
        )
    wanted: dict[str, bool] = {}
    for key, value in include.items():
        if not isinstance(key, str):
            raise JobInvalidRequestError(f"include keys must be strings, not {excerpt(key)}")
        name = key.strip().lower()
        if name not in INCLUDE_KEYS:
            raise JobInvalidRequestError(
                f"Unknown include key {excerpt(key)}. Expected: {', '.join(INCLUDE_KEYS)}"
            )
        if not isinstance(value, bool):
            raise JobInvalidRequestError(
                f"include[{excerpt(key)}] must be a bool, not {excerpt(value)}"
            )
        wanted[name] = wanted.get(name, False) or value
    for name in LOGIC_ONLY_KEYS:
        if wanted.get(name) and any(not kind.is_logic for kind in kinds):
            raise JobInvalidRequestError(f"include={name!r} is only available for Logic")
    return Include(given=True, **wanted)
