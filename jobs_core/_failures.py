"""What an HTTP status and body mean: success, which error, retry or not, stale endpoint.

Every Direct Access parser runs its final response through `check_status` first; the retry layer
uses `is_transient_status`, `retry_after_s` and `is_stale_endpoint` on the responses before that.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ._effects import HttpResponse
from ._errors import JobInvalidRequestError, JobNotFoundError, JobNotReadyError, JobServerError
from ._reasoners import ReasonerType
from ._timestamps import parse_http_date

_NOT_READY = "not ready to accept jobs"
_STALE_ENDPOINT = (
    "could not find the service associated with endpoint",
    # What resolvers say when a host name no longer exists (glibc, macOS, Windows, glibc again).
    "name or service not known",
    "nodename nor servname provided",
    "getaddrinfo failed",
    "temporary failure in name resolution",
)
_MESSAGE_LIMIT = 1000
"""Error bodies (an HTML error page, say) are cut to this many characters in messages."""


def api_label(kind: ReasonerType) -> str:
    """Return ``Transactions`` for Logic and ``Jobs`` otherwise, as error messages name the API."""
    return "Transactions" if kind.is_logic else "Jobs"


def fold(text: str) -> str:
    """Return `text` lower-cased with runs of whitespace made single spaces, for matching."""
    return " ".join(text.split()).lower()


def is_not_ready_message(text: str) -> bool:
    """Return True when `text` says the engine/reasoner/worker is not ready to accept jobs."""
    return _NOT_READY in fold(text)


def is_transient_status(status: int) -> bool:
    """Return True for the statuses worth retrying: 429 and 5xx."""
    return status == 429 or 500 <= status <= 599


def is_stale_endpoint(text: str) -> bool:
    """Return True when `text` (a body or a transport error) says the cached endpoint is stale.

    That is the service's "could not find the service associated with endpoint", or a failure to
    resolve the host name.
    """
    folded = fold(text)
    return any(marker in folded for marker in _STALE_ENDPOINT)


def retry_after_s(response: HttpResponse) -> float | None:
    """Return the wait the response's `Retry-After` asks for, in seconds, or None.

    An HTTP date is measured against the response's own `Date` header, since the core reads no
    wall clock; without a usable `Date` the date form gives None. A date in the past gives 0.
    None also when the header is absent, negative or unparseable.
    """
    value = response.header("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return _seconds_between(value, response.header("Date"))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_between(later: str, now: str | None) -> float | None:
    until = parse_http_date(later)
    since = None if now is None else parse_http_date(now)
    if until is None or since is None:
        return None
    return max((until - since).total_seconds(), 0.0)


def response_text(response: HttpResponse) -> str:
    """Return the body as text (undecodable bytes replaced), stripped."""
    return response.body.decode("utf-8", errors="replace").strip()


def error_message(response: HttpResponse) -> str:
    """Return what an error response says: the body's `message` or `error`, else its text.

    An `error` that is itself an object contributes its `message`. Long texts are shortened.
    """
    text = response_text(response)
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    return text if len(text) <= _MESSAGE_LIMIT else text[:_MESSAGE_LIMIT] + "..."


def check_status(
    kind: ReasonerType, op: str, response: HttpResponse, *, missing_ok: bool = False
) -> bool:
    """Return True for a success (2xx), False for a plain 404 when `missing_ok`.

    Raises:
        JobInvalidRequestError: a 400.
        JobNotReadyError: a 404 saying the reasoner is not ready to accept jobs.
        JobNotFoundError: any other 404, unless `missing_ok`.
        JobServerError: any other status, its number in `status`; also a 404 saying the endpoint
            is stale (the refresh did not help), which must not pass for "not found".
    """
    status = response.status
    if 200 <= status <= 299:
        return True
    label = api_label(kind)
    message = error_message(response)
    if status == 400:
        raise JobInvalidRequestError(f"{label} request failed validation. {message}")
    if status == 404 and not is_stale_endpoint(message):
        if is_not_ready_message(message):
            raise JobNotReadyError(f"{label} request failed (status=404) op={op}. {message}")
        if missing_ok:
            return False
        raise JobNotFoundError(f"{label} request failed (status=404) op={op}. {message}")
    raise JobServerError(
        f"{label} request failed (status={status}) op={op}. {message}", status=status
    )


def json_body(kind: ReasonerType, op: str, response: HttpResponse) -> Any:
    """Return the decoded JSON body of a successful response.

    Raises:
        JobServerError: the body is not JSON.
    """
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError) as exc:
        raise JobServerError(
            f"{api_label(kind)} request op={op} answered {response.status} with a body that is"
            f" not JSON: {response_text(response)[:_MESSAGE_LIMIT]!r}",
            status=response.status,
        ) from exc
