"""An explicit stepping object over a protocol, for runtimes that do not drive generators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._effects import Effect, Protocol

T = TypeVar("T")

_UNSET: Any = object()


class Stepper(Generic[T]):
    """Drives a protocol one effect at a time.

    ``effect = stepper.start()``, then for each effect perform it and call ``stepper.send(reply)``
    (or ``stepper.throw(exc)`` when it failed) to get the next one. Each of these returns the next
    effect, or None once the protocol has finished; then `done` is True and `result` holds its
    return value. An exception the protocol raises propagates from the call that caused it.
    """

    def __init__(self, protocol: Protocol[T]) -> None:
        self._protocol = protocol
        self._started = False
        self._result: T = _UNSET
        self.done = False

    @property
    def result(self) -> T:
        """The protocol's return value.

        Raises:
            RuntimeError: the protocol has not finished, or finished by raising.
        """
        if self._result is _UNSET:
            raise RuntimeError("the protocol has not returned a result")
        return self._result

    def start(self) -> Effect | None:
        """Run the protocol up to its first effect and return it (None if it needs none)."""
        if self._started:
            raise RuntimeError("start() was already called")
        self._started = True
        return self._advance(self._protocol.send, None)

    def send(self, reply: Any) -> Effect | None:
        """Answer the current effect with `reply`; return the next effect or None."""
        return self._advance(self._protocol.send, reply)

    def throw(self, exc: BaseException) -> Effect | None:
        """Fail the current effect with `exc`; return the next effect or None."""
        return self._advance(self._protocol.throw, exc)

    def _advance(self, step: Callable[[Any], Effect], argument: Any) -> Effect | None:
        if not self._started:
            raise RuntimeError("call start() first")
        if self.done:
            raise RuntimeError("the protocol has finished")
        try:
            effect = step(argument)
        except StopIteration as stop:
            self.done = True
            self._result = stop.value
            return None
        except BaseException:
            self.done = True
            raise
        return effect
