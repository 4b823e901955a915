"""What the engine raises; each API maps these onto its own error shapes (HTTP status, SQL)."""

from __future__ import annotations


class EngineError(Exception):
    """Root of the engine's errors; `str(error)` is a message fit to show the caller."""


class InvalidRequest(EngineError):
    """The call is malformed: a missing field, a bad type, an unknown token (HTTP 400)."""


class NotFound(EngineError):
    """No record with that id (and type) exists (HTTP 404)."""


class NotReady(EngineError):
    """The named reasoner or engine is not ready to accept jobs (HTTP 404 with that message)."""

    def __init__(self, message: str = "engine is not ready to accept jobs") -> None:
        super().__init__(message)


class PermissionDenied(EngineError):
    """The record belongs to another user and the call is limited to the caller's own (HTTP 403)."""
