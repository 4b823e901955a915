"""Drivers and public clients: run `jobs_core` protocols over HTTP/1.1 and DB-API connections.

`connect_sync(...)` returns a `JobsClientSync`; `connect(...)` returns a `JobsClient` for asyncio
or trio. A client runs its protocols on a gateway: the drivers `connect` builds, a recording or a
replay of a cassette, or a `JobsGateway` / `JobsGatewaySync` of your own, passed to the client's
constructor with a `jobs_core.ClientConfig`.

Modules: `_connect` (the entry points), `_client_sync` / `_client_async` (the clients, one the
mirror of the other) over `_client_base` (what they share), `_gateways` (what a client runs on),
`_client_errors` (`JobClientClosedError`), `_sync_driver` / `_async_driver` (perform effects)
over `_runtimes` (asyncio or trio), `_time_left` (an effect's deadline as seconds to wait),
`_request_log` (the `jobs_transports` logger), `_fork_safety` (what a forked child starts afresh),
`_http_executors` + `_http_target` + `_http_errors` (HTTP: where, with what credentials, error
mapping) over `_h11_blocking` (the sync pool) and `_h11_pool` + `_h11_streams` + `_h11_slots`
(the async pool, loaded with the first async HTTP client), both over `_h11_exchange` and
`_socket_readiness` (whether an idle connection has bytes waiting),
`_sql_executor` (DB-API), `_account_config` + `_config_files` (the account as users configure
it), `_account_wiring` (from arguments, environment or files to backends), `_account_session` +
`_key_pair` + `_endpoint_cache` (the Direct Access endpoint and tokens: discovered, signed,
cached, renewed), `_cassettes` (record and replay files), `cli` (the `jobs-client` command),
`pytest_plugin` (the `jobs_cassette` fixture).
"""

from ._account_wiring import describe_connection as describe_connection
from ._client_async import EventIterator as EventIterator
from ._client_async import JobOperation as JobOperation
from ._client_async import JobsClient as JobsClient
from ._client_errors import JobClientClosedError as JobClientClosedError
from ._client_sync import EventIteratorSync as EventIteratorSync
from ._client_sync import JobOperationSync as JobOperationSync
from ._client_sync import JobsClientSync as JobsClientSync
from ._connect import connect as connect
from ._connect import connect_sync as connect_sync
from ._gateways import JobsGateway as JobsGateway
from ._gateways import JobsGatewaySync as JobsGatewaySync
from ._http_target import EndpointProvider as EndpointProvider
from ._http_target import Timeouts as Timeouts

__all__ = [
    "EndpointProvider",
    "EventIterator",
    "EventIteratorSync",
    "JobClientClosedError",
    "JobOperation",
    "JobOperationSync",
    "JobsClient",
    "JobsClientSync",
    "JobsGateway",
    "JobsGatewaySync",
    "Timeouts",
    "connect",
    "connect_sync",
    "describe_connection",
]
