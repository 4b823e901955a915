"""Failure triage for both backends: what an answer or a failure means, and whether to retry.

HTTP: every Direct Access parser runs its final response through `check_status` first; the retry
layer uses `is_transient_status`, `retry_after_s` and `is_stale_endpoint` on the responses before
that. SQL: `is_lost_connection` tells the retry layer which failures are the connection's (worth
retrying when the call is safe to repeat), and `sql_failure_error` names the `JobError` a failed
statement means. Codes (Snowflake's errno, the SQLSTATE) decide first; the text of a message is
read only where the codes say nothing, as for errors the application raises itself.
"""

from __future__ import annotations

import math
from typing import Any

from ._effects import HttpResponse, SqlFailure
from ._errors import (
    JobConfigurationError,
    JobError,
    JobInvalidRequestError,
    JobNotFoundError,
    JobNotReadyError,
    JobServerError,
    clip,
)
from ._json_text import decode_json
from ._models import ReasonerType
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
_NOT_FOUND = ("does not exist", "not found")
# Snowflake's own "object does not exist" errors name a missing table, function or schema: the
# application is not installed as configured, which says nothing about the job.
_MISSING_OBJECT = ("sql compilation error", "or not authorized", "unknown function")
_MISSING_OBJECT_ERRNOS = frozenset({2003, 2043, 2140})
"""Snowflake: object does not exist or not authorized; object does not exist or operation cannot
be performed; unknown function."""
_CONNECTION_ERRNOS = frozenset(
    {250001, 250002, 250003, 250005, 251011, 252007, 390111, 390112, 390114}
)
"""The connector's failed to connect, connection closed, failed to request, failed to reach the
server, connection timeout and failed to renew the session; the service's session no longer
exists, session expired and authentication token expired."""
_SESSION_GONE_ERRNOS = frozenset({390111, 390112, 390114})
"""The session no longer exists, expired, or its token expired (the connector renews an expired
session itself when it can: one that reaches the client is over). Only a new login helps."""
_REFUSED_LOGIN_ERRNOS = frozenset({390100, 390144, 390303, 390318})
"""Snowflake refusing a login: incorrect user name or password, JWT token invalid (a key pair
the user does not have), invalid and expired OAuth access token."""
_REFUSED_LOGIN = (
    "incorrect username or password",
    "jwt token is invalid",
    "invalid oauth access token",
    "oauth access token expired",
    "user temporarily locked",
    "user access disabled",
)
"""The same in words, for a connector that reports them under its own "failed to connect" number
(250001), and for a locked or disabled user."""
_CONNECTION_SQLSTATE_CLASS = "08"
"""SQLSTATE class 08, connection exception (08001 not established, 08003 does not exist...)."""
_NO_DATA_SQLSTATE = "02000"
_INVALID_PARAMETER_SQLSTATE = "22023"


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


def error_text(response: HttpResponse) -> str:
    """Return what an error response says: the body's `message` or `error`, else its text.

    An `error` that is itself an object contributes its `message`. The text is whole, to match
    on: a message quotes it through `clip`.
    """
    text = response_text(response)
    try:
        body = decode_json(text)
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
    return text


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
    text = error_text(response)
    message = clip(text)
    if status == 400:
        raise JobInvalidRequestError(f"{label} request failed validation. {message}")
    if status == 404 and not is_stale_endpoint(text):
        if is_not_ready_message(text):
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
        return decode_json(response.body)
    except (ValueError, RecursionError) as exc:
        raise JobServerError(
            f"{api_label(kind)} request op={op} answered {response.status} with a body that is"
            f" not JSON: {clip(response_text(response))!r}",
            status=response.status,
        ) from exc


def is_refused_login(failure: SqlFailure) -> bool:
    """Return True when `failure` is the account refusing the login: wrong credentials, or a
    locked or disabled user. Never worth retrying: the answer would be the same, and each
    attempt counts towards locking the user out."""
    return failure.errno in _REFUSED_LOGIN_ERRNOS or any(
        marker in fold(failure.message) for marker in _REFUSED_LOGIN
    )


def is_lost_connection(failure: SqlFailure) -> bool:
    """Return True when `failure` is the connection's or the session's, not the statement's, and
    a retry may get a working one.

    That is a failure the driver marked `connection_lost` (a PEP 249 `OperationalError` or
    `InterfaceError`), a SQLSTATE of class 08, or one of the connector's network and session
    error numbers, whatever the message says (a session refresh answered "404 Not Found" is not
    a missing job); but never a refused login (`is_refused_login`), which comes with the same
    codes, nor an ended session on a connection the driver cannot replace (`is_session_ended`).
    """
    return (
        failure.connection_lost
        or (failure.sqlstate or "").startswith(_CONNECTION_SQLSTATE_CLASS)
        or failure.errno in _CONNECTION_ERRNOS
    ) and not (is_refused_login(failure) or is_session_ended(failure))


def is_session_ended(failure: SqlFailure) -> bool:
    """Return True when `failure` says the session has ended for good (it no longer exists, or
    expired) on a connection the driver was given and cannot replace (``reconnects=False``):
    every later statement on it would fail the same way, so retrying is pointless."""
    return not failure.reconnects and failure.errno in _SESSION_GONE_ERRNOS


def sql_failure_error(op: str, kind: ReasonerType, failure: SqlFailure) -> JobError:
    """Return the `JobError` a failed statement of operation `op` means (the caller raises it).

    A refused login (`is_refused_login`) is `JobConfigurationError`: the credentials are the
    user's to change; so is the end of the session of a connection the caller gave the client
    (`is_session_ended`): only they can open a new one. A lost connection or session
    (`is_lost_connection`), or Snowflake naming a missing table or function (by its error number
    or its wording: the application is not installed as configured), is `JobServerError`. SQLSTATE
    02000 (no data) from the application is `JobNotFoundError`. Otherwise the application's
    message decides: "not ready to accept jobs" is `JobNotReadyError`, "does not exist" or "not
    found" is `JobNotFoundError`; failing those, SQLSTATE 22023 (invalid parameter value: a
    continuation token the application refuses, say) is `JobInvalidRequestError`, as a 400 is
    over HTTP, and anything else `JobServerError`. The message quotes at most an excerpt of the
    failure's.
    """
    prefix = f"{api_label(kind)} SQL request failed op={op}. {clip(failure.message)}"
    folded = fold(failure.message)
    missing_object = failure.errno in _MISSING_OBJECT_ERRNOS or any(
        marker in folded for marker in _MISSING_OBJECT
    )
    if is_refused_login(failure):
        return JobConfigurationError(f"{prefix} (the account refused the login)")
    if is_session_ended(failure):
        return JobConfigurationError(
            f"{prefix} (the session of the sql_connection given to the client has ended, and"
            " the client cannot log in again on a connection it did not open: give it a new"
            " connection, or snowflake= settings to open its own)"
        )
    if is_lost_connection(failure) or missing_object:
        return JobServerError(prefix)
    if failure.sqlstate == _NO_DATA_SQLSTATE:
        return JobNotFoundError(prefix)
    if _NOT_READY in folded:
        return JobNotReadyError(prefix)
    if any(marker in folded for marker in _NOT_FOUND):
        return JobNotFoundError(prefix)
    if failure.sqlstate == _INVALID_PARAMETER_SQLSTATE:
        return JobInvalidRequestError(prefix)
    return JobServerError(prefix)
