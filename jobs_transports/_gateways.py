"""What a client needs from whatever runs its protocols: a driver, a recorder or a replayer."""

from __future__ import annotations

from typing import Protocol, TypeVar

import jobs_core
from jobs_core import ClientConfig

T = TypeVar("T")


class SyncGateway(Protocol):
    def run(self, protocol: jobs_core.Protocol[T]) -> T: ...

    def close(self) -> None: ...


class AsyncGateway(Protocol):
    async def run(self, protocol: jobs_core.Protocol[T]) -> T: ...

    async def aclose(self) -> None: ...


def default_config(gateway: object) -> ClientConfig:
    """Return the configuration a client built on `gateway` alone runs with.

    A replayer knows the recorded one; a driver implies its backends with the default policies.

    Raises:
        JobConfigurationError: the driver has no backend, or has the SQL one (which needs the
            application name: pass a `ClientConfig`, or use `connect()`).
    """
    replayer = getattr(gateway, "replayer", None)
    if isinstance(replayer, jobs_core.Replayer):
        return replayer.cassette.config
    return ClientConfig(
        http=getattr(gateway, "http", None) is not None,
        sql=getattr(gateway, "sql", None) is not None,
    )
