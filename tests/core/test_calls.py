"""Every call on every backend and reasoner type: the effects it emits, what it makes of replies."""

from __future__ import annotations

import json

import attrs
import pytest

import jobs_core as core
from jobs_core import (
    Gather,
    JobEvents,
    JobExpanded,
    JobNotFoundError,
    JobNotReadyError,
    JobServerError,
    ReasonerType,
    RefreshEndpoint,
    Sleep,
    SqlFailure,
    SqlRows,
    TransportError,
)
from jobs_core import _http_dialect as http
from jobs_core import _sql_dialect as sql
from jobs_core._filters import ListFilters
from jobs_core._retry import Deadline, as_received, jitter_source, request_key, send_http
from tests.core.replies import HTTP, HYBRID, SQL, job_json, job_row, ok, response, txn_json, txn_row
from tests.core.script import Script

KINDS = list(ReasonerType)
NS = "APP.api"


def _at(request: core.HttpRequest, deadline: float) -> core.HttpRequest:
    return attrs.evolve(request, deadline=deadline)


def _polled(request: core.HttpRequest, deadline: float) -> core.HttpRequest:
    """`request` as a wait polls with it: its deadline persists."""
    return attrs.evolve(request, deadline=deadline, persist=True)


def http_record(kind: ReasonerType, state: str = "RUNNING", **more: object) -> dict[str, object]:
    if kind.is_logic:
        return {"transaction": txn_json("x1", state=state, **more)}
    return {"job": job_json("x1", kind.discriminator, state=state, **more)}


def sql_record(kind: ReasonerType, state: str = "RUNNING") -> SqlRows:
    return (
        txn_row("x1", state=state)
        if kind.is_logic
        else job_row("x1", kind.discriminator, state=state)
    )


# --- get -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_get_over_http(kind: ReasonerType) -> None:
    script = Script((http.build_get(kind, "x1"), ok(http_record(kind))))
    job = script.finish(core.get(HTTP, kind.value, "x1"))
    assert (job.id, job.reasoner_type, job.state) == ("x1", kind.value, "RUNNING")
    assert type(job) is core.Job


@pytest.mark.parametrize("kind", KINDS)
def test_get_over_sql(kind: ReasonerType) -> None:
    script = Script((sql.build_get(NS, kind, "x1"), sql_record(kind)))
    job = script.finish(core.get(SQL, kind.discriminator.lower(), "x1"))
    assert (job.id, job.reasoner_type) == ("x1", kind.value)


@pytest.mark.parametrize("kind", KINDS)
def test_get_routes_jobs_and_transactions_over_http_in_hybrid(kind: ReasonerType) -> None:
    script = Script((http.build_get(kind, "x1"), ok(http_record(kind))))
    assert script.finish(core.get(HYBRID, kind.value, "x1")).id == "x1"


def test_hybrid_sends_logic_through_sql_when_transactions_endpoints_are_unavailable() -> None:
    config = core.ClientConfig(http=True, sql=True, app="APP", logic_over_http=False)
    kind = ReasonerType.LOGIC
    script = Script((sql.build_get(NS, kind, "x1"), sql_record(kind)))
    assert script.finish(core.get(config, "Logic", "x1")).id == "x1"


@pytest.mark.parametrize(
    ("http_on", "sql_on", "logic_over_http", "logic", "jobs"),
    [
        (True, False, True, "http", "http"),
        (False, True, True, "sql", "sql"),
        (True, True, True, "http", "http"),
        (True, True, False, "sql", "http"),
        (True, False, False, None, "http"),  # the transactions endpoints are unavailable
    ],
)
def test_routing_is_the_same_for_every_call_of_a_client(
    http_on: bool, sql_on: bool, logic_over_http: bool, logic: str | None, jobs: str
) -> None:
    config = core.ClientConfig(
        http=http_on, sql=sql_on, app="APP" if sql_on else None, logic_over_http=logic_over_http
    )
    for numbered in (config, config.for_call(7), attrs.evolve(config, seed=3)):
        for kind in (ReasonerType.PRESCRIPTIVE, ReasonerType.PREDICTIVE):
            assert numbered.backend_for(kind).value == jobs
        if logic is None:
            with pytest.raises(core.JobCapabilityError, match="logic_over_http=False"):
                numbered.backend_for(ReasonerType.LOGIC)
        else:
            assert numbered.backend_for(ReasonerType.LOGIC).value == logic
        if sql_on:
            assert numbered.backend_for(ReasonerType.LOGIC, all_users_cancel=True).value == "sql"
        elif http_on:
            with pytest.raises(core.JobCapabilityError):
                numbered.backend_for(ReasonerType.LOGIC, all_users_cancel=True)


def test_logic_without_its_endpoints_and_without_sql_fails_before_any_effect() -> None:
    config = core.ClientConfig(http=True, logic_over_http=False)
    with pytest.raises(core.JobCapabilityError):
        core.get(config, "Logic", "t1")
    with pytest.raises(core.JobCapabilityError):
        core.create(config, "Logic", "e1", {"database": "db", "query": "q"})
    script = Script(
        (http.build_get(ReasonerType.PREDICTIVE, "x1"), ok(http_record(ReasonerType.PREDICTIVE)))
    )
    assert script.finish(core.get(config, "Predictive", "x1")).id == "x1"


@pytest.mark.parametrize("kind", KINDS)
def test_get_not_found(kind: ReasonerType) -> None:
    script = Script((http.build_get(kind, "x1"), response(404, {"message": "no such job"})))
    assert script.finish(core.get(HTTP, kind.value, "x1")) is None
    script = Script((sql.build_get(NS, kind, "x1"), SqlRows(("ID",), ())))
    assert script.finish(core.get(SQL, kind.value, "x1")) is None


@pytest.mark.parametrize(
    "message", ["engine is not ready to accept jobs", "Reasoner   is NOT ready to accept jobs"]
)
def test_get_not_ready_404(message: str) -> None:
    kind = ReasonerType.PREDICTIVE
    script = Script((http.build_get(kind, "x1"), response(404, {"error": message})))
    with pytest.raises(JobNotReadyError):
        script.finish(core.get(HTTP, "Predictive", "x1"))


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_reads_retry_transient_statuses_then_succeed(status: int) -> None:
    kind = ReasonerType.PRESCRIPTIVE
    request = http.build_get(kind, "x1")
    policy = HTTP.retry
    rng = jitter_source(HTTP, request_key(request))
    first, second = policy.backoff(1, rng), policy.backoff(2, rng)
    script = Script(
        (request, response(status, {"message": "busy"})),
        (Sleep(first), None),
        (request, response(status, {"message": "busy"})),
        (Sleep(second), None),
        (request, ok(http_record(kind))),
    )
    assert script.finish(core.get(HTTP, "Prescriptive", "x1")).state == "RUNNING"


@pytest.mark.parametrize("persist", [False, True])
def test_a_response_too_large_is_never_retried(persist: bool) -> None:
    """The same request would meet the same answer: not even a persistent deadline repeats it."""
    request = http.build_get(ReasonerType.PREDICTIVE, "x1")
    deadline = Deadline(at=1e9, persist=persist)
    sent = attrs.evolve(request, deadline=deadline.at, persist=persist)
    refused = TransportError("too large", request_sent=True, too_large=True)
    script = Script((sent, refused))
    with pytest.raises(JobServerError, match="too large") as raised:
        script.finish(send_http(HTTP, request, as_received, op="get", deadline=deadline))
    assert raised.value.__cause__ is refused
    assert script.effects == [sent]


def test_retry_after_seconds_is_honoured() -> None:
    kind = ReasonerType.PREDICTIVE
    request = http.build_get(kind, "x1")
    script = Script(
        (request, response(429, {"message": "slow down"}, (("Retry-After", "3"),))),
        (Sleep(3.0), None),
        (request, ok(http_record(kind))),
    )
    assert script.finish(core.get(HTTP, "Predictive", "x1")) is not None


def test_a_5xx_burst_longer_than_the_policy_is_a_server_error() -> None:
    kind = ReasonerType.PREDICTIVE
    config = core.ClientConfig(http=True, retry=core.RetryPolicy(max_attempts=2, jitter=0))
    request = http.build_get(kind, "x1")
    script = Script(
        (request, response(503, {"message": "down"})),
        (Sleep(0.1), None),
        (request, response(503, {"message": "still down"})),
    )
    with pytest.raises(JobServerError, match="status=503") as raised:
        script.finish(core.get(config, "Predictive", "x1"))
    assert raised.value.status == 503


def test_stale_endpoint_is_refreshed_once_then_retried() -> None:
    kind = ReasonerType.LOGIC
    request = http.build_get(kind, "x1")
    stale = {"message": "Could not find the service associated with endpoint xyz"}
    script = Script(
        (request, response(404, stale)),
        (RefreshEndpoint(), None),
        (request, ok(http_record(kind))),
    )
    assert script.finish(core.get(HTTP, "Logic", "x1")) is not None


def test_a_stale_endpoint_that_stays_stale_is_not_taken_for_not_found() -> None:
    kind = ReasonerType.LOGIC
    request = http.build_get(kind, "x1")
    stale = {"message": "could not find the service associated with endpoint xyz"}
    script = Script(
        (request, response(404, stale)),
        (RefreshEndpoint(), None),
        (request, response(404, stale)),
    )
    with pytest.raises(JobServerError, match="status=404"):
        script.finish(core.get(HTTP, "Logic", "x1"))


def test_stale_endpoint_from_a_dns_failure_is_refreshed() -> None:
    kind = ReasonerType.LOGIC
    request = http.build_get(kind, "x1")
    failure = TransportError(
        "ConnectError: [Errno -2] Name or service not known", request_sent=False
    )
    script = Script(
        (request, failure),
        (RefreshEndpoint(), None),
        (request, ok(http_record(kind))),
    )
    assert script.finish(core.get(HTTP, "Logic", "x1")) is not None


def test_malformed_json_is_a_server_error() -> None:
    kind = ReasonerType.PREDICTIVE
    script = Script((http.build_get(kind, "x1"), response(200, b"{not json")))
    with pytest.raises(JobServerError):
        script.finish(core.get(HTTP, "Predictive", "x1"))


def test_sql_connection_loss_is_retried_but_a_statement_error_is_not() -> None:
    kind = ReasonerType.PREDICTIVE
    query = sql.build_get(NS, kind, "x1")
    lost = SqlFailure("connection reset", connection_lost=True)
    rng = jitter_source(SQL, request_key(query))
    script = Script(
        (query, lost), (Sleep(SQL.retry.backoff(1, rng)), None), (query, sql_record(kind))
    )
    assert script.finish(core.get(SQL, "Predictive", "x1")) is not None
    script = Script((query, SqlFailure("SQL compilation error: boom", errno=1003)))
    with pytest.raises(JobServerError):
        script.finish(core.get(SQL, "Predictive", "x1"))


def test_sql_not_ready_error() -> None:
    kind = ReasonerType.PRESCRIPTIVE
    query = sql.build_get(NS, kind, "x1")
    script = Script((query, SqlFailure("Engine is not ready to accept jobs", errno=100132)))
    with pytest.raises(JobNotReadyError):
        script.finish(core.get(SQL, "Prescriptive", "x1"))


# --- create ----------------------------------------------------------------------------------

LOGIC_PAYLOAD = {"database": "db", "query": "def output = 1", "abort_detached": True}


@pytest.mark.parametrize("kind", KINDS)
def test_create_over_http_strips_abort_detached(kind: ReasonerType) -> None:
    request = http.build_create(
        kind, "r1", {"database": "db", "query": "def output = 1"}, 5, abort_detached=False
    )
    reply = ok({"transaction": {"id": "x9"}} if kind.is_logic else {"id": "x9"})
    script = Script((request, reply))
    ref = script.finish(core.create(HTTP, kind.value, "r1", dict(LOGIC_PAYLOAD), timeout_mins=5))
    assert ref == core.OperationRef(id="x9", reasoner_type=kind.value, name="r1")


@pytest.mark.parametrize("kind", KINDS)
def test_create_over_sql(kind: ReasonerType) -> None:
    query = sql.build_create(
        NS, kind, "r1", {"database": "db", "query": "def output = 1"}, None, abort_detached=False
    )
    script = Script((query, SqlRows(("ID",), (("x9",),))))
    assert script.finish(core.create(SQL, kind.value, "r1", dict(LOGIC_PAYLOAD))).id == "x9"


def test_create_is_retried_on_429_and_on_connect_errors_only() -> None:
    kind = ReasonerType.PREDICTIVE
    request = http.build_create(kind, "r1", {}, None, abort_detached=False)
    refused = TransportError("ConnectError: refused", request_sent=False)
    script = Script(
        (request, response(429, {"message": "later"}, (("Retry-After", "1"),))),
        (Sleep(1.0), None),
        (request, refused),
        # Retry-After took the first wait, so the backoff is the generator's first draw.
        (Sleep(HTTP.retry.backoff(2, jitter_source(HTTP, request_key(request)))), None),
        (request, ok({"id": "x9"})),
    )
    assert script.finish(core.create(HTTP, "Predictive", "r1", {})).id == "x9"


@pytest.mark.parametrize(
    "failure",
    [
        response(500, {"message": "oops"}),
        response(503, {"message": "oops"}),
        TransportError("ReadTimeout", request_sent=True, timeout=True),
        TransportError("RemoteProtocolError: Server disconnected", request_sent=True),
    ],
)
def test_create_is_never_retried_when_the_job_may_have_started(failure: object) -> None:
    kind = ReasonerType.PREDICTIVE
    request = http.build_create(kind, "r1", {}, None, abort_detached=False)
    script = Script((request, failure))
    with pytest.raises(JobServerError):
        script.finish(core.create(HTTP, "Predictive", "r1", {}))
    assert [e for e in script.effects if e == request] == [request]


def test_sql_create_is_not_retried_after_a_lost_connection() -> None:
    kind = ReasonerType.PREDICTIVE
    query = sql.build_create(NS, kind, "r1", {}, None, abort_detached=False)
    script = Script((query, SqlFailure("connection reset", connection_lost=True)))
    with pytest.raises(JobServerError):
        script.finish(core.create(SQL, "Predictive", "r1", {}))


def test_sql_create_is_retried_when_it_was_never_sent() -> None:
    # The connection stayed busy past Timeouts.pool, or could not be opened: no job can exist.
    kind = ReasonerType.PREDICTIVE
    query = sql.build_create(NS, kind, "r1", {}, None, abort_detached=False)
    unsent = SqlFailure("the connection stayed busy", connection_lost=True, statement_sent=False)
    script = Script(
        (query, unsent),
        (Sleep(SQL.retry.backoff(1, jitter_source(SQL, request_key(query)))), None),
        (query, SqlRows(("ID",), (("x9",),))),
    )
    assert script.finish(core.create(SQL, "Predictive", "r1", {})).id == "x9"


def test_create_ready_marks_logic_abort_detached_and_waits() -> None:
    kind = ReasonerType.LOGIC
    payload = {"database": "db", "query": "q"}
    request = http.build_create(kind, "e1", payload, None, abort_detached=True)
    script = Script(
        (core.Now(), 0.0),
        (attrs.evolve(request, deadline=900.0), ok({"id": "t1"})),
        (_polled(http.build_get(kind, "t1"), 900.0), ok(txn_json("t1", state="COMPLETED"))),
    )
    job = script.finish(core.create_ready(HTTP, "Logic", "e1", payload))
    assert (job.id, job.state) == ("t1", "COMPLETED")


def test_create_ready_errors_after_the_create_carry_the_new_job_id() -> None:
    kind = ReasonerType.PREDICTIVE
    config = core.ClientConfig(http=True, retry=core.RetryPolicy(max_attempts=1))
    create = http.build_create(kind, "w", {}, None, abort_detached=False)
    script = Script(
        (core.Now(), 0.0),
        (_at(create, 900.0), ok({"id": "j7"})),
        (_polled(http.build_get(kind, "j7"), 900.0), response(403, {"message": "denied"})),
    )
    with pytest.raises(JobServerError) as raised:
        script.finish(core.create_ready(config, "Predictive", "w", {}))
    assert raised.value.job_id == "j7"


def test_create_ready_does_not_mark_jobs_abort_detached() -> None:
    kind = ReasonerType.PRESCRIPTIVE
    request = http.build_create(kind, "s1", {}, None, abort_detached=False)
    script = Script(
        (core.Now(), 0.0),
        (_at(request, 900.0), ok({"id": "j1"})),
        (
            _polled(http.build_get(kind, "j1"), 900.0),
            ok({"job": job_json("j1", "SOLVER", state="FAILED")}),
        ),
    )
    assert script.finish(core.create_ready(HTTP, "Prescriptive", "s1", {})).state == "FAILED"


# --- list ------------------------------------------------------------------------------------


def _jobs_body() -> dict[str, object]:
    return {
        "jobs": [
            job_json("p-old", "SOLVER", created_on="2026-01-01T00:00:01Z"),
            job_json("m-new", "ml", created_on="2026-01-01 00:00:05"),
            job_json("p-new", "Prescriptive", created_on=1767225604),  # epoch seconds: 00:00:04
            job_json("m-done", "ML", state="COMPLETED", created_on=1767225602000),  # ms
        ]
    }


def _txns_body() -> dict[str, object]:
    return {
        "transactions": [
            txn_json("t-mid", created_on="2026-01-01T00:00:03.5Z"),
            txn_json("t-none", created_on=None),
        ]
    }


def test_list_all_types_over_http_merges_newest_first_then_slices() -> None:
    # One answer of GET /v1alpha1/jobs holds both job types: it is asked for once.
    steps = [
        (http.build_list(ReasonerType.LOGIC), ok(_txns_body())),
        (http.build_list(ReasonerType.PRESCRIPTIVE), ok(_jobs_body())),
    ]
    assert http.build_list(ReasonerType.PRESCRIPTIVE) == http.build_list(ReasonerType.PREDICTIVE)
    script = Script(*steps)
    jobs = script.finish(core.list_jobs(HTTP, limit=10))
    assert [j.id for j in jobs] == ["m-new", "p-new", "t-mid", "m-done", "p-old", "t-none"]
    script = Script(*steps)
    jobs = script.finish(core.list_jobs(HTTP, limit=2, offset=1, only_active=True))
    assert [j.id for j in jobs] == ["p-new", "t-mid"]


def test_a_job_without_a_type_is_listed_once_when_all_types_are_merged() -> None:
    typeless = job_json("untyped", created_on="2026-01-01T00:00:09Z")
    del typeless["type"]
    script = Script(
        (http.build_list(ReasonerType.LOGIC), ok({"transactions": []})),
        (http.build_list(ReasonerType.PRESCRIPTIVE), ok({"jobs": [typeless]})),
    )
    jobs = script.finish(core.list_jobs(HTTP))
    assert [(j.id, j.reasoner_type) for j in jobs] == [("untyped", "Prescriptive")]


def test_list_filters_client_side_case_insensitively() -> None:
    script = Script((http.build_list(ReasonerType.PREDICTIVE), ok(_jobs_body())))
    jobs = script.finish(
        core.list_jobs(HTTP, "predictive", state="completed", name="W1", created_by="ALICE")
    )
    assert [j.id for j in jobs] == ["m-done"]


def test_list_over_sql_lets_the_statement_filter_and_slice() -> None:
    kind = ReasonerType.PREDICTIVE
    filters = ListFilters(state="RUNNING", name="w1", created_by=None)
    query = sql.build_list(NS, kind, filters, 5, 2)
    script = Script((query, job_row("m1", "ML")))
    jobs = script.finish(
        core.list_jobs(
            SQL,
            "Predictive",
            state="running",
            name="W1",
            created_by="bob",
            all_users=True,
            limit=5,
            offset=2,
        )
    )
    assert [j.id for j in jobs] == ["m1"]


def test_list_all_types_over_sql_asks_each_type_for_offset_plus_limit() -> None:
    filters = ListFilters()
    script = Script(
        *[(sql.build_list(NS, kind, filters, 3, 0), sql_record(kind)) for kind in ReasonerType]
    )
    jobs = script.finish(core.list_jobs(SQL, limit=2, offset=1))
    assert len(jobs) == 2


def test_list_with_job_id_is_a_filtered_get() -> None:
    kind = ReasonerType.LOGIC
    script = Script((http.build_get(kind, "x1"), ok(http_record(kind, state="COMPLETED"))))
    assert script.finish(core.list_jobs(HTTP, "Logic", job_id="x1", only_active=True)) == []


def test_list_limit_zero_emits_nothing() -> None:
    script = Script()
    assert script.finish(core.list_jobs(HTTP, limit=0)) == []
    assert script.effects == []


# --- events, cancel, operation --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_get_events_both_backends(kind: ReasonerType) -> None:
    page = {"events": [{"type": "progress"}], "continuation_token": "abc"}
    script = Script((http.build_events(kind, "x1", "t0", "progress"), ok(page)))
    assert script.finish(core.get_events(HTTP, kind.value, "x1", "t0")) == JobEvents(
        [{"type": "progress"}], "abc"
    )
    script = Script(
        (
            sql.build_events(NS, kind, "x1", "t0", "progress"),
            SqlRows(("V",), ((json.dumps(page),),)),
        )
    )
    assert script.finish(core.get_events(SQL, kind.value, "x1", "t0")).continuation_token == "abc"


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_both_backends(kind: ReasonerType) -> None:
    script = Script((http.build_cancel(kind, "x1"), ok({})))
    assert script.finish(core.cancel(HTTP, kind.value, "x1")) is None
    script = Script((sql.build_cancel(NS, kind, "x1", all_users=False), SqlRows()))
    assert script.finish(core.cancel(SQL, kind.value, "x1")) is None


def test_cancel_unknown_id_is_not_found() -> None:
    kind = ReasonerType.PREDICTIVE
    script = Script((http.build_cancel(kind, "nope"), response(404, {"message": "job not found"})))
    with pytest.raises(JobNotFoundError):
        script.finish(core.cancel(HTTP, "Predictive", "nope"))


def test_hybrid_cancel_all_users_goes_through_sql() -> None:
    kind = ReasonerType.LOGIC
    script = Script((sql.build_cancel(NS, kind, "t1", all_users=True), SqlRows()))
    script.finish(core.cancel(HYBRID, "Logic", "t1", all_users=True))
    assert "CANCEL_TRANSACTION" in script.effects[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("state", "abort_reason", "status", "error"),
    [
        ("CREATED", None, "RUNNING", None),
        ("running", None, "RUNNING", None),
        ("COMPLETED", None, "SUCCEEDED", None),
        ("CANCELED", None, "CANCELLED", None),
        ("FAILED", None, "FAILED", "job ended in state=FAILED"),
        ("ABORTED", "too slow", "FAILED", "too slow"),
    ],
)
def test_get_operation(
    state: str, abort_reason: str | None, status: str, error: str | None
) -> None:
    kind = ReasonerType.LOGIC
    script = Script(
        (http.build_get(kind, "x1"), ok(txn_json("x1", state=state, abort_reason=abort_reason)))
    )
    op = script.finish(core.get_operation(HTTP, "Logic", "x1"))
    assert (op.status, op.error, op.done()) == (status, error, status != "RUNNING")


def test_get_operation_of_a_missing_job_is_pending() -> None:
    kind = ReasonerType.LOGIC
    script = Script((http.build_get(kind, "x1"), response(404, {"message": "nope"})))
    assert script.finish(core.get_operation(HTTP, "Logic", "x1")).status == "PENDING"


# --- include= --------------------------------------------------------------------------------


def test_get_with_every_expansion_of_a_transaction() -> None:
    kind = ReasonerType.LOGIC
    page = {"events": [{"i": 1}], "continuation_token": "n"}
    script = Script(
        (http.build_get(kind, "x1"), ok(http_record(kind, state="COMPLETED"))),
        (http.build_events(kind, "x1", "", "progress"), ok(page)),
        (http.build_artifacts("x1"), ok({"results": [{"filename": "a.csv", "size": 3}]})),
        (http.build_problems("x1"), ok({"problems": [{"type": "error"}]})),
    )
    everything = {"details": True, "events": True, "artifacts": True, "problems": True, "raw": True}
    job = script.finish(core.get(HTTP, "Logic", "x1", include=everything))
    assert isinstance(job, JobExpanded)
    assert isinstance(script.effects[1], Gather)
    assert job.events == JobEvents([{"i": 1}], "n")
    assert "a.csv" in (job.artifacts or {})
    assert job.problems == {"problems": [{"type": "error"}]}
    assert job.details is not None
    assert job.details["model"] == "db"
    assert job.raw is not None
    assert job.raw["engine_name"] == "e1"


def test_failed_expansions_are_empty_not_errors() -> None:
    kind = ReasonerType.LOGIC
    config = core.ClientConfig(http=True, retry=core.RetryPolicy(max_attempts=1))
    script = Script(
        (http.build_get(kind, "x1"), ok(http_record(kind))),
        (http.build_events(kind, "x1", "", "progress"), response(500, {"message": "x"})),
        (http.build_artifacts("x1"), TransportError("ReadError", request_sent=True)),
    )
    job = script.finish(
        core.get(config, "Logic", "x1", include={" Events ": True, "ARTIFACTS": True, "raw": False})
    )
    assert isinstance(job, JobExpanded)
    assert (job.events, job.artifacts, job.raw) == (JobEvents([], None), {}, None)


def test_list_expansions_run_in_one_bounded_gather() -> None:
    config = core.ClientConfig(http=True, expansion_concurrency=3)
    kind = ReasonerType.PREDICTIVE
    body = {
        "jobs": [job_json(f"m{i}", "ML", created_on=f"2026-01-01T00:00:0{i}Z") for i in range(5)]
    }
    steps = [(http.build_list(kind), ok(body))]
    steps += [
        (
            http.build_events(kind, f"m{i}", "", "progress"),
            ok({"events": [], "continuation_token": None}),
        )
        for i in reversed(range(5))
    ]
    script = Script(*steps)
    jobs = script.finish(core.list_jobs(config, "Predictive", include={"events": True}))
    gathers = [e for e in script.effects if isinstance(e, Gather)]
    assert len(gathers) == 1
    assert (len(gathers[0].protocols), gathers[0].limit) == (5, 3)
    assert all(isinstance(j, JobExpanded) for j in jobs)
