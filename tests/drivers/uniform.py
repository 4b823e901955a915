"""One test scenario for every client: `Uniform` makes sync and async clients look alike.

A scenario is an ``async def scenario(client)``; through `Uniform`, every method call is awaited
(a sync client's result is simply returned), operation handles are wrapped too, and event
iterators become async iterators. Under the sync driver the scenario runs in a throwaway asyncio
loop that only ever awaits already-finished calls, so every call is still the sync client's own.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from jobs_transports import JobOperation, JobOperationSync

Scenario = Callable[["Uniform"], Coroutine[Any, Any, Any]]


class Uniform:
    def __init__(self, target: Any) -> None:
        self.target = target

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.target, name)
        if not callable(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            # An async operation handle is itself awaitable (it waits): wrap it, don't await it.
            if not isinstance(result, JobOperation) and inspect.isawaitable(result):
                result = await result
            if isinstance(result, JobOperation | JobOperationSync):
                return Uniform(result)
            return result

        return call

    async def events(self, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Iterate over `iter_events(*args, **kwargs)` of the wrapped client."""
        iterator = self.target.iter_events(*args, **kwargs)
        self.last_iterator = iterator
        if hasattr(iterator, "__anext__"):
            async for event in iterator:
                yield event
        else:
            for event in iterator:
                yield event

    async def completed(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """Iterate over `as_completed(*args, **kwargs)` of the wrapped client."""
        iterator = self.target.as_completed(*args, **kwargs)
        if hasattr(iterator, "__anext__"):
            async for job in iterator:
                yield job
        else:
            for job in iterator:
                yield job
