"""Drivers and public clients: run `jobs_core` protocols over httpcore and DB-API connections.

`connect_sync(...)` returns a `JobsClientSync`; `connect(...)` returns a `JobsClient` for asyncio
or trio.
"""

from ._async_driver import AsyncDriver as AsyncDriver
from ._client_async import JobOperation as JobOperation
from ._client_async import JobsClient as JobsClient
from ._client_errors import JobClientClosedError as JobClientClosedError
from ._client_sync import JobOperationSync as JobOperationSync
from ._client_sync import JobsClientSync as JobsClientSync
from ._connect import connect as connect
from ._connect import connect_sync as connect_sync
from ._http_target import Timeouts as Timeouts
from ._sync_driver import SyncDriver as SyncDriver

__all__ = [
    "AsyncDriver",
    "JobClientClosedError",
    "JobOperation",
    "JobOperationSync",
    "JobsClient",
    "JobsClientSync",
    "SyncDriver",
    "Timeouts",
    "connect",
    "connect_sync",
]
