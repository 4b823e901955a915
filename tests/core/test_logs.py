"""The decisions the core logs (``jobs_core``), in words that carry no secret."""

from __future__ import annotations

import logging

import pytest

import jobs_core as core
from jobs_core import (
    HttpRequest,
    HttpResponse,
    ReasonerType,
    RefreshEndpoint,
    RetryPolicy,
    Sleep,
    SqlFailure,
    SqlQuery,
    SqlRows,
    TransportError,
)
from jobs_core import _http_dialect as http
from jobs_core import _sql_dialect as sql
from tests.core.replies import HTTP, SQL, job_json, ok, response
from tests.core.script import Script

NO_JITTER = RetryPolicy(jitter=0)  # backoffs 0.1 s, 0.2 s
CONFIG = core.ClientConfig(http=True, retry=NO_JITTER)
KIND = ReasonerType.PREDICTIVE


def core_records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "jobs_core"]


def test_a_retry_is_logged_at_info_with_its_reason_and_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = http.build_get(KIND, "j1")
    script = Script(
        (request, response(503, {"message": "busy"})),
        (Sleep(0.1), None),
        (request, TransportError("connection reset by peer", request_sent=True)),
        (Sleep(0.2), None),
        (request, ok(job_json("j1", "ML"))),
    )
    with caplog.at_level(logging.INFO, logger="jobs_core"):
        script.finish(core.get(CONFIG, "Predictive", "j1"))
    assert core_records(caplog) == [
        (logging.INFO, f"get: GET {request.target}: HTTP 503; retrying in 0.10s"),
        (
            logging.INFO,
            f"get: GET {request.target}: failed: connection reset by peer; retrying in 0.20s",
        ),
    ]


def test_a_lost_sql_connection_retried_is_logged_by_operation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = core.ClientConfig(sql=True, app="APP", retry=NO_JITTER)
    query = sql.build_get("APP.api", KIND, "j1")
    script = Script(
        (query, SqlFailure("connection reset", connection_lost=True)),
        (Sleep(0.1), None),
        (query, SqlRows(columns=("ID",), rows=())),
    )
    with caplog.at_level(logging.INFO, logger="jobs_core"):
        script.run(core.get(config, "Predictive", "j1"))
    ((level, message),) = core_records(caplog)
    assert level == logging.INFO
    assert message.startswith(f"{query.operation}: SQL {query.operation}: failed: connection")
    assert "?" not in message  # no statement text...
    assert "j1" not in message  # ...and no parameters


def test_a_stale_endpoint_is_logged_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    request = http.build_get(KIND, "j1")
    stale = {"message": "Could not find the service associated with endpoint xyz"}
    script = Script(
        (request, response(404, stale)),
        (RefreshEndpoint(), None),
        (request, ok(job_json("j1", "ML"))),
    )
    with caplog.at_level(logging.INFO, logger="jobs_core"):
        script.finish(core.get(HTTP, "Predictive", "j1"))
    assert core_records(caplog) == [
        (
            logging.WARNING,
            f"get: the Direct Access endpoint is stale (GET {request.target});"
            " asking the endpoint provider again",
        )
    ]


def test_requests_are_named_without_query_headers_body_or_parameters() -> None:
    request = HttpRequest(
        "POST",
        "/v1alpha1/jobs/ML/j1/events/progress?continuation_token=opaque",
        headers=(("Authorization", "Bearer s3cret"),),
        body=b'{"password": "s3cret"}',
    )
    assert core.describe_request(request) == "POST /v1alpha1/jobs/ML/j1/events/progress"
    query = SqlQuery("SELECT * FROM t WHERE k = ?", ("s3cret",), operation="get")
    assert core.describe_request(query) == "SQL get"
    assert core.describe_outcome(HttpResponse(401, body=b"s3cret")) == "HTTP 401"
    assert core.describe_outcome(SqlRows(rows=(("s3cret",),))) == "1 row(s)"
    assert core.describe_outcome(KeyboardInterrupt()) == "stopped by KeyboardInterrupt"


def test_a_clients_backends_are_named_with_the_app_only() -> None:
    assert core.describe_config(HTTP) == "Direct Access"
    assert core.describe_config(SQL) == "SQL app 'APP'"
    hybrid = core.ClientConfig(http=True, sql=True, app="APP")
    assert core.describe_config(hybrid) == "Direct Access + SQL app 'APP'"
