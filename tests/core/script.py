"""Drive a protocol against a script of (expected effect, reply) pairs, with no I/O.

A reply that is an exception instance is thrown into the protocol instead of sent. `Gather`
children run one after another against the same script, so a script lists their effects in order.
"""

from __future__ import annotations

from typing import Any

from jobs_core import Effect, Gather, Protocol


class Script:
    """The pairs a protocol must go through; `effects` records what it actually emitted."""

    def __init__(self, *steps: tuple[Effect, Any]) -> None:
        self.steps = list(steps)
        self.effects: list[Effect] = []

    def run(self, protocol: Protocol[Any]) -> Any:
        """Run `protocol` to its end; return its result (or raise its error)."""
        try:
            effect = next(protocol)
            while True:
                reply = self._reply(effect)
                if isinstance(reply, BaseException):
                    effect = protocol.throw(reply)
                else:
                    effect = protocol.send(reply)
        except StopIteration as stop:
            return stop.value

    def _reply(self, effect: Effect) -> Any:
        self.effects.append(effect)
        if isinstance(effect, Gather):
            results = []
            for child in effect.protocols:
                try:
                    results.append(self.run(child))
                except Exception as exc:
                    results.append(exc)
            return results
        assert self.steps, f"unexpected effect past the end of the script: {effect!r}"
        expected, reply = self.steps.pop(0)
        assert effect == expected, f"expected {expected!r}\n     got {effect!r}"
        return reply

    def finish(self, protocol: Protocol[Any]) -> Any:
        """Run `protocol` and check that it used the whole script."""
        result = self.run(protocol)
        assert not self.steps, f"script not used up: {self.steps[0][0]!r} was never emitted"
        return result
