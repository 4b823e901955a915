"""httpcore's exceptions, translated at the boundary into the core's `TransportError`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpcore

from jobs_core import TransportError

# Failures that happen before a byte of the request could reach the server: retrying them can
# never start a second job.
_NOT_SENT = (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout)
_TIMEOUTS = (httpcore.TimeoutException,)
_TRANSPORT = (httpcore.NetworkError, httpcore.TimeoutException, httpcore.RemoteProtocolError)


@contextlib.contextmanager
def transport_errors() -> Iterator[None]:
    """Re-raise httpcore's network, timeout and remote-protocol errors as `TransportError`."""
    try:
        yield
    except _TRANSPORT as exc:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise TransportError(
            message,
            request_sent=not isinstance(exc, _NOT_SENT),
            timeout=isinstance(exc, _TIMEOUTS),
        ) from exc
