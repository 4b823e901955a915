"""What a client needs from whatever runs its protocols: a driver, a recorder or a replayer."""

from __future__ import annotations

from typing import Protocol, TypeVar

import jobs_core

T = TypeVar("T")


class SyncGateway(Protocol):
    def run(self, protocol: jobs_core.Protocol[T]) -> T: ...

    def close(self) -> None: ...


class AsyncGateway(Protocol):
    async def run(self, protocol: jobs_core.Protocol[T]) -> T: ...

    async def aclose(self) -> None: ...
