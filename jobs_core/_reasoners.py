"""Reading a reasoner type from what a caller or a server wrote: either spelling, any casing."""

from __future__ import annotations

from typing import Literal

from ._errors import JobInvalidRequestError, excerpt

# Re-exported: the calls that parse a type take the type from here too.
from ._models import ReasonerType as ReasonerType

ReasonerTypeName = Literal[
    "Logic",
    "Prescriptive",
    "Predictive",
    "LOGIC",
    "PRESCRIPTIVE",
    "PREDICTIVE",
    "logic",
    "prescriptive",
    "predictive",
    "SOLVER",
    "solver",
    "ML",
    "ml",
]
"""The spellings of a reasoner type the clients' signatures accept, so a type checker catches a
typo: the public labels and the legacy ``SOLVER``/``ML``, as written, upper- or lower-cased. At
run time any casing is accepted, and a `ReasonerType` member too."""

_BY_SPELLING = {spelling: kind for kind in ReasonerType for spelling in kind.spellings}
_AS_WRITTEN = {
    written: kind
    for spelling, kind in _BY_SPELLING.items()
    for written in (spelling, spelling.lower(), spelling.title())
}
"""The spellings seen most (``ML``, ``Predictive``...), found without folding."""


def lookup_reasoner_type(value: object) -> ReasonerType | None:
    """Return the type `value` spells (any casing, surrounding spaces ignored), or None."""
    if type(value) is not str:  # plain text first: what every call and every record brings
        if isinstance(value, ReasonerType):
            return value
        if not isinstance(value, str):
            return None
    return _AS_WRITTEN.get(value) or _BY_SPELLING.get(value.strip().upper())


def parse_reasoner_type(value: object) -> ReasonerType:
    """Return the type `value` spells.

    Raises:
        JobInvalidRequestError: anything but Logic, Prescriptive, Predictive or a legacy spelling.
    """
    kind = lookup_reasoner_type(value)
    if kind is None:
        raise JobInvalidRequestError(
            f"Invalid reasoner_type {excerpt(value)}. Expected: Logic, Prescriptive, or Predictive"
        )
    return kind
