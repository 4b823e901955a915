"""Failure triage: transient statuses, Retry-After, stale endpoints, and SQL failures."""

from __future__ import annotations

from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    Effect,
    JobConfigurationError,
    JobInvalidRequestError,
    JobNotFoundError,
    JobNotReadyError,
    JobServerError,
    ReasonerType,
    Sleep,
    SqlFailure,
    SqlQuery,
    Stepper,
)
from jobs_core import _failures as failures
from jobs_core import _sql_dialect as sql
from jobs_core._effects import HttpResponse
from jobs_core._retry import jitter_source, request_key
from tests.core.replies import SQL
from tests.core.script import Script

NS = "APP.api"


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        *[(200, False), (400, False), (404, False), (428, False), (429, True), (499, False)],
        *[(500, True), (502, True), (503, True), (599, True), (600, False)],
    ],
)
def test_transient(status: int, transient: bool) -> None:
    assert failures.is_transient_status(status) is transient


DATE = ("Date", "Wed, 21 Oct 2015 07:28:00 GMT")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), None),
        ((("Retry-After", "3"),), 3.0),
        ((("retry-after", " 1.5 "),), 1.5),
        ((("Retry-After", "0"),), 0.0),
        ((("Retry-After", "-1"),), None),
        ((("Retry-After", "nan"),), None),
        ((("Retry-After", "inf"),), None),
        ((("Retry-After", "soon"),), None),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"), DATE), 30.0),
        ((DATE, ("Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT")), 0.0),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"),), None),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"), ("Date", "garbage")), None),
        ((("Retry-After", "Wed, 21 Oct 2015 07:28:30 -0000"), DATE), None),
    ],
)
def test_retry_after(headers: tuple[tuple[str, str], ...], expected: float | None) -> None:
    assert failures.retry_after_s(HttpResponse(429, headers)) == expected


@pytest.mark.parametrize(
    ("text", "stale"),
    [
        ("Could not find the service associated with endpoint abc.example", True),
        ("could not  find the SERVICE\nassociated with endpoint x", True),
        ("[Errno -2] Name or service not known", True),
        ("[Errno 8] nodename nor servname provided, or not known", True),
        ("[Errno 11001] getaddrinfo failed", True),
        ("[Errno -3] Temporary failure in name resolution", True),
        ("connection refused", False),
        ("", False),
    ],
)
def test_stale_endpoint(text: str, stale: bool) -> None:
    assert failures.is_stale_endpoint(text) is stale


def test_stale_endpoint_in_a_json_body() -> None:
    response = HttpResponse(
        404, (), b'{"message": "Could not find the service associated with endpoint"}'
    )
    assert failures.is_stale_endpoint(failures.response_text(response))


def test_response_text() -> None:
    assert failures.response_text(HttpResponse(500, (), b"  oops \xff\n")) == "oops \ufffd"


# --- SQL failures: codes first, text only where the codes say nothing --------------------------

REFRESH_404 = "Failed to refresh session: 404 Not Found: the job was not found"


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        # The connector's "failed to connect" (250001 / 08001) whatever the message says.
        (SqlFailure(REFRESH_404, errno=250001, sqlstate="08001"), JobServerError),
        (SqlFailure(REFRESH_404, errno=250001), JobServerError),
        (SqlFailure(REFRESH_404, sqlstate="08001"), JobServerError),
        (SqlFailure("connection does not exist", sqlstate="08003"), JobServerError),
        (SqlFailure("Connection is closed, not found", errno=250002), JobServerError),
        (SqlFailure("Session no longer exists. Job not found", errno=390111), JobServerError),
        (SqlFailure("Your session has expired", errno=390112, sqlstate="08001"), JobServerError),
        (SqlFailure("job j-1 not found", connection_lost=True), JobServerError),
        # Snowflake's missing objects, by number, even under the no-data SQLSTATE.
        (SqlFailure("Object 'JOBS' does not exist", errno=2003, sqlstate="02000"), JobServerError),
        (SqlFailure("Unknown user-defined function A.API.GET_JOB", errno=2140), JobServerError),
        # The application's own errors: SQLSTATE 02000 is "no such job", whatever the wording.
        (SqlFailure("GET_JOB: no row for j-1", errno=100357, sqlstate="02000"), JobNotFoundError),
        (SqlFailure("GET_JOB: j-1 not found", errno=100357, sqlstate="02000"), JobNotFoundError),
        (SqlFailure("not ready to accept jobs", errno=100357, sqlstate="55000"), JobNotReadyError),
        (SqlFailure("EXEC: job j-1 not found", errno=100357, sqlstate="22023"), JobNotFoundError),
        (SqlFailure("GET_JOB_EVENTS: bad continuation token 'zz'", errno=100357,
                    sqlstate="22023"), JobInvalidRequestError),
        (SqlFailure("Warehouse suspended", errno=606, sqlstate="57P03"), JobServerError),
        # A refused login, under the connection-exception codes it shares with a lost network.
        (SqlFailure("Incorrect username or password was specified.", errno=390100,
                    sqlstate="08001"), JobConfigurationError),
        (SqlFailure("JWT token is invalid. [0ce9eb56]", errno=390144, sqlstate="08001"),
         JobConfigurationError),
        (SqlFailure("Failed to connect to DB: a.snowflakecomputing.com:443. Incorrect username"
                    " or password was specified.", errno=250001, sqlstate="08001"),
         JobConfigurationError),
        (SqlFailure("Failed to connect to DB: x:443. User access disabled. Contact your local"
                    " system administrator.", errno=250001, sqlstate="08001"),
         JobConfigurationError),
    ],
)  # fmt: skip
@pytest.mark.parametrize("kind", list(ReasonerType))
def test_sql_failures_are_classified_by_code_first(
    kind: ReasonerType, failure: SqlFailure, error: type[Exception]
) -> None:
    assert type(failures.sql_failure_error("get", kind, failure)) is error


@pytest.mark.parametrize(
    ("failure", "lost"),
    [
        (SqlFailure("x", connection_lost=True), True),
        (SqlFailure("x", sqlstate="08001"), True),
        (SqlFailure("x", sqlstate="08S01"), True),
        (SqlFailure("x", errno=252007), True),
        (SqlFailure("connection reset by peer"), False),
        (SqlFailure("x", errno=100357, sqlstate="02000"), False),
        (SqlFailure("x", sqlstate="80000"), False),
        (SqlFailure("Invalid OAuth access token. [12]", errno=390303, sqlstate="08004"), False),
        (SqlFailure("Failed to connect: User temporarily locked.", errno=250001), False),
    ],
)
def test_lost_connections_and_sessions(failure: SqlFailure, lost: bool) -> None:
    assert failures.is_lost_connection(failure) is lost


def test_a_lost_session_during_get_is_retried_and_never_becomes_not_found() -> None:
    kind = ReasonerType.PREDICTIVE
    query = sql.build_get(NS, kind, "x1")
    # Marked by its codes only: the driver did not say the connection was lost.
    lost = SqlFailure(REFRESH_404, errno=250001, sqlstate="08001")
    rng = jitter_source(SQL, request_key(query))
    delays = [SQL.retry.backoff(attempt, rng) for attempt in range(1, SQL.retry.max_attempts)]
    steps: list[tuple[Effect, Any]] = [(query, lost)]
    for delay in delays:
        steps += [(Sleep(delay), None), (query, lost)]
    script = Script(*steps)
    with pytest.raises(JobServerError) as caught:
        script.finish(core.get(SQL, "Predictive", "x1"))
    assert not isinstance(caught.value, JobNotFoundError)
    assert caught.value.__cause__ is lost


ENDED = "Session no longer exists.  New login required to access the service."


@pytest.mark.parametrize("errno", [390111, 390112, 390114])
def test_an_ended_session_is_lost_unless_the_driver_cannot_replace_the_connection(
    errno: int,
) -> None:
    assert failures.is_lost_connection(SqlFailure(ENDED, errno=errno))
    assert not failures.is_session_ended(SqlFailure(ENDED, errno=errno))
    theirs = SqlFailure(ENDED, errno=errno, reconnects=False)
    assert failures.is_session_ended(theirs)
    assert not failures.is_lost_connection(theirs)
    # A network failure of their connection may pass: it is still retried.
    network = SqlFailure("x", errno=250003, connection_lost=True, reconnects=False)
    assert failures.is_lost_connection(network)
    assert not failures.is_session_ended(network)


NO_RETRY_CAN_HELP = {
    # Each attempt would count towards locking the user out.
    "refused login": (
        SqlFailure("Incorrect username or password was specified.",
                   errno=390100, sqlstate="08001"),
        "refused the login",
    ),
    # The client cannot log in again on a connection it did not open.
    "ended session on the caller's connection": (
        SqlFailure(ENDED, errno=390111, reconnects=False),
        "cannot log in again",
    ),
}  # fmt: skip


@pytest.mark.parametrize("failure", NO_RETRY_CAN_HELP.values(), ids=NO_RETRY_CAN_HELP.keys())
@pytest.mark.parametrize("persist", [False, True], ids=["call", "poll"])
def test_a_failure_no_retry_can_help_is_never_retried(
    failure: tuple[SqlFailure, str], persist: bool
) -> None:
    # Not even by a wait, which retries lost connections and sessions until its deadline.
    failed, message = failure
    protocol = (
        core.wait(SQL, "Predictive", "x1", timeout_s=60)
        if persist
        else core.get(SQL, "Predictive", "x1")
    )
    stepper = Stepper(protocol)
    effect = stepper.start()
    while not isinstance(effect, SqlQuery):
        effect = stepper.send(0.0)
    assert effect.text == sql.build_get(NS, ReasonerType.PREDICTIVE, "x1").text
    with pytest.raises(JobConfigurationError, match=message) as caught:
        stepper.throw(failed)
    assert caught.value.__cause__ is failed


def test_a_lost_session_during_create_is_not_retried() -> None:
    kind = ReasonerType.PREDICTIVE
    query = sql.build_create(NS, kind, "r1", {}, None, abort_detached=False)
    script = Script((query, SqlFailure(REFRESH_404, errno=250001, sqlstate="08001")))
    with pytest.raises(JobServerError):
        script.finish(core.create(SQL, "Predictive", "r1", {}))


def test_a_long_error_body_is_read_whole_but_quoted_short() -> None:
    message = "x" * 5000 + " engine is not ready to accept jobs"
    with pytest.raises(JobNotReadyError) as caught:
        failures.check_status(ReasonerType.LOGIC, "get", HttpResponse(404, (), message.encode()))
    assert len(str(caught.value)) < 1000
