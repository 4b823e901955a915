"""Replay: run protocols against a cassette, with no I/O at all.

Each effect is checked against the recording of its stream and answered from it: `Sleep`
returns at once and `Now` returns the recorded time, so a recorded ten-minute `wait` replays in
milliseconds. `Gather` children run one after another, each against its own stream, so a
cassette recorded by any driver replays the same.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, TypeVar

from ._cassette import Cassette, CassetteError, Interaction, Redactor, redact_line
from ._effects import ANSWERS, Effect, Gather, Protocol
from ._serialization import effect_to_json, failure_from_json, reply_from_json

T = TypeVar("T")


class Replayer:
    """Answers protocols from `cassette`; each `run` is the next recorded client call."""

    def __init__(self, cassette: Cassette, *, redact: Redactor | None = None) -> None:
        self.cassette = cassette
        self._redact = redact
        self._calls = itertools.count()

    def run(self, protocol: Protocol[T]) -> T:
        """Replay the next client call; return its result or raise its error.

        Raises:
            CassetteError: the call emits an effect the cassette did not record there.
        """
        return self._run(protocol, str(next(self._calls)))

    def finish(self) -> None:
        """Check that every recorded interaction was replayed.

        Raises:
            CassetteError: some were not (the replayed code made fewer calls than recorded).
        """
        left = self.cassette.leftovers()
        if left:
            first = left[0]
            raise CassetteError(
                f"{len(left)} recorded interaction(s) were never replayed, the first at line "
                f"{first.number} (call {first.stream}): {first.effect.get('type')}"
            )

    def _run(self, protocol: Protocol[T], stream: str) -> T:
        gathers = 0
        try:
            effect = next(protocol)
            while True:
                item = self._take(stream, effect)
                if isinstance(effect, Gather):
                    prefix = f"{stream}.g{gathers}"
                    gathers += 1
                    results = [
                        self._outcome(child, f"{prefix}.{i}")
                        for i, child in enumerate(effect.protocols)
                    ]
                    effect = protocol.send(results)
                elif item.failure is not None:
                    effect = protocol.throw(self._failure(item, effect))
                else:
                    effect = protocol.send(self._reply(item, effect))
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            protocol.close()

    def _outcome(self, protocol: Protocol[Any], stream: str) -> Any:
        try:
            return self._run(protocol, stream)
        except CassetteError:
            raise
        except Exception as exc:
            return exc

    def _take(self, stream: str, effect: Effect) -> Interaction:
        actual = redact_line({"stream": stream, "effect": effect_to_json(effect)})
        if self._redact is not None:
            actual = self._redact(actual)
        return self.cassette.take(stream, actual["effect"])

    def _reply(self, item: Interaction, effect: Effect) -> Any:
        """Return the recorded reply to `effect`, checked to be of the kind `effect` expects."""
        try:
            reply = reply_from_json(item.reply)
        except (ValueError, RecursionError) as exc:
            self.cassette.fail(item.number, f"unusable recorded reply: {str(exc)[:300]}")
        expected, _ = ANSWERS[type(effect)]
        if not isinstance(reply, expected) or (
            isinstance(reply, float) and not math.isfinite(reply)
        ):
            self.cassette.fail(
                item.number,
                f"unusable recorded reply: a {type(effect).__name__} cannot be answered with "
                f"{_kind(reply)}",
            )
        return reply

    def _failure(self, item: Interaction, effect: Effect) -> Exception:
        """Return the recorded failure of `effect`, checked to be one `effect` can meet."""
        try:
            failure = failure_from_json(item.failure)
        except (ValueError, RecursionError) as exc:
            self.cassette.fail(item.number, f"unusable recorded failure: {str(exc)[:300]}")
        _, expected = ANSWERS[type(effect)]
        if expected is None or not isinstance(failure, expected):
            self.cassette.fail(
                item.number,
                f"unusable recorded failure: a {type(effect).__name__} cannot fail with "
                f"{type(failure).__name__}",
            )
        return failure


def _kind(reply: object) -> str:
    return "null" if reply is None else f"a {type(reply).__name__} ({str(reply)[:60]})"
