"""Errors the clients raise themselves."""

from jobs_core import JobConfigurationError


def closed_error() -> JobConfigurationError:
    """Return the error for a call on a closed client."""
    return JobConfigurationError("this client is closed")
