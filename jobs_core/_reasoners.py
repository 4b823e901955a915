"""Reasoner types: the public labels, their legacy spellings and their backend discriminators."""

from __future__ import annotations

import enum

from ._errors import JobInvalidRequestError


class ReasonerType(enum.Enum):
    """The three kinds of work; the value is the public label."""

    LOGIC = "Logic"
    PRESCRIPTIVE = "Prescriptive"
    PREDICTIVE = "Predictive"

    @property
    def discriminator(self) -> str:
        """The backend's name for this type: ``LOGIC``, ``SOLVER`` or ``ML``."""
        return _DISCRIMINATORS[self]

    @property
    def is_logic(self) -> bool:
        """True for transactions (Logic), False for jobs."""
        return self is ReasonerType.LOGIC

    @property
    def spellings(self) -> tuple[str, str]:
        """Both spellings, upper-cased, public label first: ``PRESCRIPTIVE``, ``SOLVER``."""
        return (self.value.upper(), self.discriminator)


_DISCRIMINATORS = {
    ReasonerType.LOGIC: "LOGIC",
    ReasonerType.PRESCRIPTIVE: "SOLVER",
    ReasonerType.PREDICTIVE: "ML",
}
_BY_SPELLING = {spelling: kind for kind in ReasonerType for spelling in kind.spellings}


def lookup_reasoner_type(value: object) -> ReasonerType | None:
    """Return the type `value` spells (any casing, surrounding spaces ignored), or None."""
    if isinstance(value, ReasonerType):
        return value
    if not isinstance(value, str):
        return None
    return _BY_SPELLING.get(value.strip().upper())


def parse_reasoner_type(value: object) -> ReasonerType:
    """Return the type `value` spells.

    Raises:
        JobInvalidRequestError: anything but Logic, Prescriptive, Predictive or a legacy spelling.
    """
    kind = lookup_reasoner_type(value)
    if kind is None:
        raise JobInvalidRequestError(
            f"Invalid reasoner_type {value!r}. Expected: Logic, Prescriptive, or Predictive"
        )
    return kind
