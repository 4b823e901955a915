"""The public models, the reasoner types, and the backend record the models are derived from."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from ._json_text import decode_json

_DISCRIMINATORS = {"Logic": "LOGIC", "Prescriptive": "SOLVER", "Predictive": "ML"}


class ReasonerType(enum.Enum):
    """The three kinds of work; the value is the public label."""

    LOGIC = "Logic"
    PRESCRIPTIVE = "Prescriptive"
    PREDICTIVE = "Predictive"

    # Plain attributes rather than properties, and identity as the hash (members are singletons
    # compared by identity): Enum's `value` and `__hash__` are Python code, and every record
    # parsed reads its type's label and is keyed by its type.
    __hash__ = object.__hash__
    label: str
    """The public label, the same as `value`."""
    discriminator: str
    """The backend's name for this type: ``LOGIC``, ``SOLVER`` or ``ML``."""
    is_logic: bool
    """True for transactions (Logic), False for jobs."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.discriminator = _DISCRIMINATORS[label]
        self.is_logic = label == "Logic"

    @property
    def spellings(self) -> tuple[str, str]:
        """Both spellings, upper-cased, public label first: ``PRESCRIPTIVE``, ``SOLVER``."""
        return (self.label.upper(), self.discriminator)


ACTIVE_STATES = frozenset({"CREATED", "PENDING", "RUNNING"})
TERMINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED", "ABORTED"})
STATES = ACTIVE_STATES | TERMINAL_STATES


def is_terminal(state: str | None) -> bool:
    """Return True when `state` (any casing) is COMPLETED, FAILED, CANCELED or ABORTED."""
    return state is not None and state.strip().upper() in TERMINAL_STATES


@attrs.frozen
class JobEvents:
    """One page of an event stream; pass `continuation_token` back to read the next page."""

    events: list[dict[str, Any]] = attrs.field(factory=list)
    continuation_token: str | None = None


# Without slots: a frozen slotted instance sets each field through `object.__setattr__`, a dict
# one writes its `__dict__` directly, a third cheaper, and a list builds thousands of jobs.
@attrs.frozen(slots=False)
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


@attrs.frozen(slots=False)
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
        decoded = decode_json(value)
    except (ValueError, RecursionError):
        return value
    return decoded if isinstance(decoded, dict) else value


@attrs.frozen
class JobRecord:
    """A job or transaction as a backend described it: the public `Job`, and what else it said.

    `raw` keeps every field of the backend record as received; `details` of an expansion come from
    the job's `model` and `read_only`, `payload` and `timeout_ms`. The payload is kept as sent and
    decoded only when read (most calls never read it); records compare by the decoded payload.
    """

    reasoner_type: ReasonerType
    job: Job
    """The record in the common schema: what the clients return."""
    read_only: bool | None = None
    _payload: Any = attrs.field(default=None, alias="payload", eq=decode_payload)
    timeout_ms: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False)

    @property
    def payload(self) -> Any:
        """The payload, decoded when it was sent as the JSON text of an object."""
        return decode_payload(self._payload)

    def details(self) -> dict[str, Any]:
        """Return the `details` expansion."""
        return {
            "model": self.job.model,
            "read_only": self.read_only,
            "payload": self.payload,
            "timeout_ms": self.timeout_ms,
        }
