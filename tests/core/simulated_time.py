"""Running a protocol on simulated time: the clock moves only when the protocol sleeps."""

from __future__ import annotations

from typing import Any

import jobs_core as core
from jobs_core import Now, Sleep


class SimulatedTime:
    """Answers `Now` and `Sleep` from a clock of its own; a subclass answers the other effects."""

    def __init__(self) -> None:
        self.clock = 0.0
        self.sleeps: list[float] = []

    def run(self, protocol: core.Protocol[Any]) -> Any:
        """Run `protocol` to its end and return its result (or raise its error); an answer that
        is an exception (a `TransportError`, a `SqlFailure`) is thrown into it."""
        try:
            effect = next(protocol)
            while True:
                reply = self.answer(effect)
                if isinstance(reply, Exception):
                    effect = protocol.throw(reply)
                else:
                    effect = protocol.send(reply)
        except StopIteration as stop:
            return stop.value

    def answer(self, effect: Any) -> Any:
        """Return the reply to `effect`."""
        if isinstance(effect, Now):
            return self.clock
        if isinstance(effect, Sleep):
            assert effect.seconds > 0
            self.sleeps.append(effect.seconds)
            self.clock += effect.seconds
            return None
        return self.answer_request(effect)

    def answer_request(self, effect: Any) -> Any:
        """Return the reply to an effect other than `Now` and `Sleep`."""
        raise AssertionError(f"unexpected effect {effect!r}")
