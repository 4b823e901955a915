"""The public models, the reasoner types, and the backend record the models are derived from."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

import attrs


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
ACTIVE_STATES = frozenset({"CREATED", "PENDING", "RUNNING"})
TERMINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED", "ABORTED"})


def is_terminal(state: str | None) -> bool:
    """Return True when `state` (any casing) is COMPLETED, FAILED, CANCELED or ABORTED."""
    return state is not None and state.strip().upper() in TERMINAL_STATES


@attrs.frozen
class JobEvents:
    """One page of an event stream; pass `continuation_token` back to read the next page."""

    events: list[dict[str, Any]] = attrs.field(factory=list)
    continuation_token: str | None = None


@attrs.frozen
class Job:
    """A job or transaction in the common schema, whichever backend it came from."""

    id: str
    reasoner_type: str
    """The public label: ``Logic``, ``Prescriptive`` or ``Predictive``."""
    state: str
    """Upper-cased: CREATED, PENDING, RUNNING, COMPLETED, FAILED, CANCELED or ABORTED."""
    name: str | None = None
    """The reasoner / engine / worker name."""
    model: str | None = None
    """The database name, when known."""
    created_by: str | None = None
    created_on: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration: int | None = None
    """Milliseconds."""
    abort_reason: str | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job has ended, whatever the outcome."""
        return is_terminal(self.state)


@attrs.frozen
class JobExpanded(Job):
    """A `Job` with the expansions `include=` asked for; the others stay None."""

    details: dict[str, Any] | None = None
    events: JobEvents | None = None
    artifacts: dict[str, Any] | None = None
    problems: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None


@attrs.frozen
class Operation:
    """A normalised status: PENDING, RUNNING, SUCCEEDED, FAILED or CANCELLED."""

    id: str
    status: str
    error: str | None = None
    raw: dict[str, Any] | None = None

    def done(self) -> bool:
        """True for the terminal statuses SUCCEEDED, FAILED and CANCELLED."""
        return self.status in {"SUCCEEDED", "FAILED", "CANCELLED"}


def decode_payload(value: object) -> Any:
    """Return a payload sent as the JSON text of an object as that object; anything else as is."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return value
    return decoded if isinstance(decoded, dict) else value


@attrs.frozen
class JobRecord:
    """A job or transaction as a backend described it, before it becomes a `Job`.

    `raw` keeps every field of the backend record as received; `details` of an expansion come from
    `model`, `read_only`, `payload` and `timeout_ms`. The payload is kept as sent and decoded only
    when read (most calls never read it); records compare by the decoded payload.
    """

    reasoner_type: ReasonerType
    id: str
    state: str
    name: str | None = None
    model: str | None = None
    created_by: str | None = None
    created_on: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration: int | None = None
    abort_reason: str | None = None
    read_only: bool | None = None
    _payload: Any = attrs.field(default=None, alias="payload", eq=decode_payload)
    timeout_ms: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False)

    @property
    def payload(self) -> Any:
        """The payload, decoded when it was sent as the JSON text of an object."""
        return decode_payload(self._payload)

    def to_job(self) -> Job:
        """Return the record in the common schema."""
        return Job(
            id=self.id,
            reasoner_type=self.reasoner_type.value,
            state=self.state,
            name=self.name,
            model=self.model,
            created_by=self.created_by,
            created_on=self.created_on,
            finished_at=self.finished_at,
            duration=self.duration,
            abort_reason=self.abort_reason,
        )

    def details(self) -> dict[str, Any]:
        """Return the `details` expansion."""
        return {
            "model": self.model,
            "read_only": self.read_only,
            "payload": self.payload,
            "timeout_ms": self.timeout_ms,
        }
