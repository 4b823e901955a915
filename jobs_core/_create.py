"""`create` and `create_ready`: start a job, and optionally wait for it to end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._backend import submit
from ._config import ClientConfig
from ._effects import Now, Protocol
from ._errors import JobError
from ._models import Job
from ._reasoners import ReasonerType, parse_reasoner_type
from ._retry import Deadline
from ._validation import optional_int, require_payload, require_segment, require_text
from ._wait import (
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
    ProgressCallback,
    WaitSpec,
    poll_until_done,
)


@attrs.frozen
class OperationRef:
    """What identifies a started job: plain data, so a wait can resume in another process.

    `reasoner_type` is always the public label (``Logic``, ``Prescriptive``, ``Predictive``).
    """

    id: str
    reasoner_type: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the reference as a JSON-ready dict."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperationRef:
        """Return the reference `to_dict` produced.

        Raises:
            JobInvalidRequestError: `data` lacks a usable id or reasoner type.
        """
        kind = parse_reasoner_type(data.get("reasoner_type"))
        name = data.get("name")
        return cls(
            id=require_segment("id", data.get("id")),
            reasoner_type=kind.label,
            name=name if isinstance(name, str) else None,
        )


@attrs.frozen
class _CreateSpec:
    kind: ReasonerType
    name: str
    payload: dict[str, Any]
    timeout_mins: int | None


def _create_spec(
    reasoner_type: object, reasoner_name: object, payload: object, timeout_mins: object
) -> _CreateSpec:
    payload = require_payload(payload)
    # abort_detached is the client's decision (create_ready), never the caller's payload.
    payload.pop("abort_detached", None)
    return _CreateSpec(
        kind=parse_reasoner_type(reasoner_type),
        name=require_text("reasoner_name", reasoner_name),
        payload=payload,
        timeout_mins=optional_int("timeout_mins", timeout_mins, minimum=1),
    )


def create(
    config: ClientConfig,
    reasoner_type: str,
    reasoner_name: str,
    payload: dict[str, Any],
    *,
    timeout_mins: int | None = None,
) -> Protocol[OperationRef]:
    """Return the protocol of `JobsClient.create`: a reference to the started job.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument, or a Logic payload the SQL API cannot run.
    """
    spec = _create_spec(reasoner_type, reasoner_name, payload, timeout_mins)
    return _create(spec, _submit(config, spec, abort_detached=False))


def _create(spec: _CreateSpec, start: Protocol[str]) -> Protocol[OperationRef]:
    job_id = yield from start
    return OperationRef(id=job_id, reasoner_type=spec.kind.label, name=spec.name)


def create_ready(
    config: ClientConfig,
    reasoner_type: str,
    reasoner_name: str,
    payload: dict[str, Any],
    *,
    timeout_mins: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    include: Mapping[str, object] | None = None,
    on_poll: ProgressCallback | None = None,
) -> Protocol[Job]:
    """Return the protocol of `JobsClient.create_ready`: create, then wait for the final job.

    Logic transactions are created with ``abort_detached: true``: the service may abort them if
    this client goes away while waiting. `timeout_s` bounds the whole call, the create included:
    every request carries the deadline and no retry sleeps past it.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument of the create or of the wait.
    """
    spec = _create_spec(reasoner_type, reasoner_name, payload, timeout_mins)
    # The wait's arguments are checked now, so a bad one never leaves a job running unwatched.
    waiting = WaitSpec.of(spec.kind, "", timeout_s, poll_interval_s, include, on_poll)
    # Built now so a request that cannot be built fails before any effect; the one sent is built
    # again once the deadline, which it carries, has been read.
    _submit(config, spec, abort_detached=spec.kind.is_logic).close()
    return _create_ready(config, spec, waiting)


def _submit(
    config: ClientConfig,
    spec: _CreateSpec,
    *,
    abort_detached: bool,
    deadline: Deadline | None = None,
) -> Protocol[str]:
    return submit(
        config,
        spec.kind,
        spec.name,
        spec.payload,
        spec.timeout_mins,
        abort_detached=abort_detached,
        deadline=deadline,
    )


def _create_ready(config: ClientConfig, spec: _CreateSpec, waiting: WaitSpec) -> Protocol[Job]:
    started = yield Now()
    deadline = Deadline(started + waiting.timeout_s)
    start = _submit(config, spec, abort_detached=spec.kind.is_logic, deadline=deadline)
    job_id = yield from start
    try:
        return (yield from poll_until_done(config, attrs.evolve(waiting, job_id=job_id), started))
    except JobError as exc:
        # The job exists and may still run: whoever catches this must be able to find it.
        exc.job_id = job_id
        raise
