"""httpcore's exceptions, translated at the boundary into the core's `TransportError`."""

from __future__ import annotations

import httpcore

from jobs_core import TransportError

from ._h11_exchange import ResponseTooLarge

# Failures that happen before a byte of the request could reach the server: retrying them can
# never start a second job.
_NOT_SENT = (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout)
_TIMEOUTS = (httpcore.TimeoutException,)


def as_transport_error(exc: Exception) -> TransportError:
    """Return `exc`, one of the pools' `EXCHANGE_ERRORS` (what means no response came), as the
    core's `TransportError` (`too_large` for the pools' `ResponseTooLarge`).

    The executors catch those with a plain ``except`` around each exchange, not a context
    manager, which costs two objects and a generator step per call."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TransportError(
        message,
        request_sent=not isinstance(exc, _NOT_SENT),
        timeout=isinstance(exc, _TIMEOUTS),
        too_large=isinstance(exc, ResponseTooLarge),
    )
