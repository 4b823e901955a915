"""What the blocking and async clients share, none of it I/O.

Each public method of `JobsClientSync` and `JobsClient` turns its arguments into a `jobs_core`
protocol and runs it on the client's gateway; the two differ only in blocking or awaiting.
What is the same in both lives here: the configuration, the closed state, the plain-data side
of operation handles and event iterators.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from jobs_core import (
    ClientConfig,
    EventsPager,
    JobConfigurationError,
    OperationHandle,
    Protocol,
    describe_config,
)

from ._async_driver import AsyncDriver
from ._cassettes import RecordingAsync, RecordingSync, ReplayAsync, ReplaySync
from ._client_errors import CLOSED, JobClientClosedError
from ._gateways import JobsGateway, JobsGatewaySync
from ._sync_driver import SyncDriver

G = TypeVar("G", JobsGatewaySync, JobsGateway)


class ClientBase(Generic[G]):
    """A client's gateway, its configuration, and whether it was closed."""

    _driver: G
    _config: ClientConfig
    _calls: itertools.count[int]
    _closed: bool = False

    @property
    def gateway(self) -> G:
        """What the client runs its protocols on: a driver, a recording, a replay, or yours."""
        return self._driver

    @property
    def config(self) -> ClientConfig:
        """The configuration the protocols run with."""
        return self._config

    def __repr__(self) -> str:
        """What the client is connected to (backends, base URL host, app), never a credential."""
        closed = ", closed" if self._closed else ""
        return (
            f"<{type(self).__name__} {describe_config(self._config)} via {self._driver!r}{closed}>"
        )

    def _bind(self, gateway: G, config: ClientConfig | None, closer: str) -> None:
        """Hold `gateway` and the configuration the protocols run with (`config`, or the
        gateway's own: see `default_config`).

        Raises:
            JobConfigurationError: `gateway` has no `run` or no `closer` method, or `config` is
                not a `ClientConfig` (either failed at the first call, with AttributeError).
        """
        if not all(callable(getattr(gateway, name, None)) for name in ("run", closer)):
            raise JobConfigurationError(
                f"a {type(self).__name__} runs on a gateway with run() and {closer}(), not on"
                f" a {type(gateway).__name__}"
            )
        if config is not None and not isinstance(config, ClientConfig):
            raise JobConfigurationError(
                f"config must be a ClientConfig, not {type(config).__name__}"
            )
        self._driver = gateway
        self._config = config if config is not None else default_config(gateway)
        self._calls = itertools.count()

    def _call_config(self) -> ClientConfig:
        """Return the configuration of the client's next call: numbered, so that concurrent calls
        draw different retry jitter while a replay, numbering its calls alike, draws the same."""
        return self._config.for_call(next(self._calls))

    def _refuse_if_closed(self, protocol: Protocol[Any]) -> None:
        """Raise `JobClientClosedError` (closing `protocol`) once the client is closed."""
        if self._closed:
            protocol.close()
            raise JobClientClosedError(CLOSED)


class HandleBase:
    """The plain-data side of an operation handle."""

    _handle: OperationHandle
    _client: ClientBase[Any]

    def __repr__(self) -> str:
        """Which job the handle holds (and how it ended, once seen), and the client it runs on."""
        return f"<{type(self).__name__} {self._handle} via {self._client!r}>"

    @property
    def id(self) -> str:
        """The job or transaction id."""
        return self._handle.id

    @property
    def metadata(self) -> dict[str, Any]:
        """``{"reasoner_type": <public label>, "name": <reasoner name>}``."""
        return self._handle.metadata

    def to_dict(self) -> dict[str, Any]:
        """Return the handle as plain data; the client's `operation(data)` rebuilds it."""
        return self._handle.to_dict()


def core_operations(ops: object) -> Any:
    """Return `ops` with each client handle in it replaced by its core handle.

    What is not an iterable of operations is passed on as it is, for `jobs_core.Completions` to
    refuse before any I/O.
    """
    if isinstance(ops, str | bytes | Mapping) or not isinstance(ops, Iterable):
        return ops
    return [op._handle if isinstance(op, HandleBase) else op for op in ops]


class EventIteratorBase:
    """The plain-data side of an event iterator."""

    _pager: EventsPager
    _client: ClientBase[Any]

    def __repr__(self) -> str:
        """Which event stream the iterator reads, and the client it runs on."""
        return f"<{type(self).__name__} {self._pager} via {self._client!r}>"

    @property
    def continuation_token(self) -> str | None:
        """Where a new iterator resumes with no event lost; None once the stream has ended.

        A reader that stops in the middle of a page reads that whole page again, the events it
        had already taken from it included.
        """
        return self._pager.continuation_token


def default_config(gateway: JobsGatewaySync | JobsGateway) -> ClientConfig:
    """Return the configuration a client built on `gateway` alone runs with.

    A replay runs with the recorded configuration, a recording with the one it records, and a
    driver with its backends and the default policies.

    Raises:
        JobConfigurationError: the driver has no backend, or has the SQL one (which needs the
            application name), or the gateway is one of yours: pass a `ClientConfig`.
    """
    if isinstance(gateway, ReplaySync | ReplayAsync):
        return gateway.replayer.cassette.config
    if isinstance(gateway, RecordingSync | RecordingAsync):
        return gateway.writer.config
    if isinstance(gateway, SyncDriver | AsyncDriver):
        return ClientConfig(http=gateway.http is not None, sql=gateway.sql is not None)
    raise JobConfigurationError(
        f"pass the ClientConfig a {type(gateway).__name__} gateway runs protocols with"
    )
