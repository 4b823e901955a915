"""The error a client raises itself: it was closed."""

from jobs_core import JobConfigurationError


class JobClientClosedError(JobConfigurationError):
    """The client was closed: calls made after `close()` / `aclose()`, and calls that were still
    running when it was closed (they stop at once), raise this.
    """
