"""What a client runs its protocols on: a driver, a recorder, a replayer, or one of your own."""

from __future__ import annotations

from typing import Protocol, TypeVar

import jobs_core

from ._http_target import HttpTarget
from ._sql_executor import SqlExecutor

T = TypeVar("T")


class JobsGatewaySync(Protocol):
    """Runs protocols with blocking I/O: what `JobsClientSync` is built on.

    `SyncDriver` is one; write your own to run the protocols on another runtime.
    """

    def run(self, protocol: jobs_core.Protocol[T]) -> T:
        """Perform `protocol`'s effects until it returns; return its result or raise its error."""
        ...

    def close(self) -> None:
        """Release what the gateway holds; stop the runs in flight."""
        ...


class JobsGateway(Protocol):
    """Runs protocols under an event loop: what `JobsClient` is built on.

    `AsyncDriver` is one; write your own to run the protocols on another runtime.
    """

    async def run(self, protocol: jobs_core.Protocol[T]) -> T:
        """Perform `protocol`'s effects until it returns; return its result or raise its error."""
        ...

    async def aclose(self) -> None:
        """Release what the gateway holds; stop the runs in flight."""
        ...


class _Sends(Protocol):
    target: HttpTarget


def describe_backends(http: _Sends | None, sql: SqlExecutor | None) -> str:
    """Return where a driver sends what, for its `repr`: base URL and SQL connection, no secret."""
    parts = [] if http is None else [f"http={http.target.describe()}"]
    if sql is not None:
        parts.append(f"sql={sql.describe()}")
    return ", ".join(parts)
