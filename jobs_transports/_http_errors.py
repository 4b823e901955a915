"""httpcore's exceptions, translated at the boundary into the core's `TransportError`."""

from __future__ import annotations

import httpcore

from jobs_core import TransportError

from ._h11_exchange import EXCHANGE_ERRORS, ResponseTooLarge

# Failures that happen before a byte of the request could reach the server: retrying them can
# never start a second job.
_NOT_SENT = (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout)
_TIMEOUTS = (httpcore.TimeoutException,)

TRANSPORT_ERRORS = EXCHANGE_ERRORS
"""httpcore's failures that mean no response came, which `as_transport_error` translates.

Caught with a plain ``except`` around each exchange (not a context manager, which costs two
objects and a generator step per call)."""


def as_transport_error(exc: Exception) -> TransportError:
    """Return `exc`, one of `TRANSPORT_ERRORS`, as the core's `TransportError` (`too_large` for
    the pools' `ResponseTooLarge`)."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TransportError(
        message,
        request_sent=not isinstance(exc, _NOT_SENT),
        timeout=isinstance(exc, _TIMEOUTS),
        too_large=isinstance(exc, ResponseTooLarge),
    )
