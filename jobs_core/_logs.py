"""What the library logs through the standard `logging` module, and the words it uses there.

Two loggers. ``jobs_core`` records the decisions the protocols make: a retry with its reason and
delay (INFO), a stale Direct Access endpoint asked for again (WARNING), each poll of a wait or of
a followed event stream and each round of a wait on many jobs (DEBUG), a cancel that failed while
a block was unwinding (WARNING).
``jobs_transports`` records each request or statement a driver performs, with its outcome and
duration (DEBUG). Logging is no I/O of the core's own: the application's handlers decide where
records go, and with none configured, nothing is written (each logger has a `NullHandler`, so
Python's last-resort handler never prints a WARNING to stderr on the library's behalf).

No record carries a secret: a request is named by its method and path (no query, headers or
body), a statement by the operation it serves (no text or parameters), an answer by its status or
row count, a failure by the driver's message, clipped. `describe_config` names a client's
backends the same way for its `repr`.
"""

from __future__ import annotations

import logging

from ._config import ClientConfig
from ._effects import HttpRequest, HttpResponse, SqlFailure, SqlQuery, SqlRows, TransportError
from ._errors import clip

CORE_LOGGER = logging.getLogger("jobs_core")
"""Where the protocols' decisions go."""
CORE_LOGGER.addHandler(logging.NullHandler())


def describe_request(request: HttpRequest | SqlQuery) -> str:
    """Return how logs name `request`: ``GET /v1alpha1/jobs/...`` or ``SQL get``."""
    if isinstance(request, HttpRequest):
        return f"{request.method} {request.target.partition('?')[0]}"
    return f"SQL {request.operation or 'statement'}"


def describe_outcome(outcome: object) -> str:
    """Return how logs name what a request came back with: a reply, or the exception it raised."""
    if isinstance(outcome, HttpResponse):
        return f"HTTP {outcome.status}"
    if isinstance(outcome, SqlRows):
        return f"{len(outcome.rows)} row(s)"
    if isinstance(outcome, TransportError | SqlFailure):
        return f"failed: {clip(outcome.message)}"
    return f"stopped by {type(outcome).__name__}"


def describe_config(config: ClientConfig) -> str:
    """Return the backends `config` uses: ``Direct Access``, ``SQL app 'x'``, or both."""
    backends = []
    if config.http:
        backends.append("Direct Access")
    if config.sql:
        backends.append(f"SQL app {config.app!r}")
    return " + ".join(backends)
