"""The error a client raises itself: it was closed."""

from jobs_core import JobConfigurationError


class JobClientClosedError(JobConfigurationError):
    """The client was closed: calls made after `close()` / `aclose()`, and calls that were still
    running when it was closed (they stop at once), raise this.
    """


CLOSED = "this client is closed: make a new one"
"""What a call made after the close says."""
CLOSED_DURING_CALL = "the client was closed during this call"
"""What a call still running at the close says."""
