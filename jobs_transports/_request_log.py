"""The ``jobs_transports`` logger: each request or statement a driver performs, at DEBUG.

A record names the request, its outcome and how long it took, in the core's words
(`jobs_core.describe_request`, `jobs_core.describe_outcome`): never its headers, body, statement
parameters or the credentials the driver adds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

from jobs_core import (
    HttpRequest,
    HttpResponse,
    SqlQuery,
    SqlRows,
    describe_outcome,
    describe_request,
)

LOGGER = logging.getLogger("jobs_transports")
LOGGER.addHandler(logging.NullHandler())  # nothing printed unless the application asks


class RequestLog:
    """Times one exchange and logs it when the block ends; the block sets `reply`.

    ``with RequestLog(effect, clock) as log: log.reply = send(effect)``
    """

    __slots__ = ("_clock", "_started", "reply", "request")

    def __init__(self, request: HttpRequest | SqlQuery, clock: Callable[[], float]) -> None:
        self.request = request
        self.reply: HttpResponse | SqlRows | None = None
        self._clock = clock
        self._started = 0.0

    def __enter__(self) -> RequestLog:
        self._started = self._clock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if LOGGER.isEnabledFor(logging.DEBUG):
            seconds = self._clock() - self._started
            outcome = describe_outcome(exc if exc is not None else self.reply)
            LOGGER.debug("%s -> %s in %.3fs", describe_request(self.request), outcome, seconds)
