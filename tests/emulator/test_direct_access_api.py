"""The Direct Access HTTP API over loopback, driven with plain httpcore (no client package)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from jobs_emulator import Emulator, serve
from tests.emulator.loopback_http import Http

NOT_READY = {"message": "engine is not ready to accept jobs"}
JOB_FIELDS = {
    "id",
    "type",
    "state",
    "worker_name",
    "created_by",
    "created_on",
    "finished_at",
    "duration",
    "payload",
    "timeout_ms",
    "abort_reason",
}
TRANSACTION_FIELDS = {
    "id",
    "database_name",
    "engine_name",
    "state",
    "abort_reason",
    "read_only",
    "created_by",
    "created_on",
    "finished_at",
    "duration",
}


@pytest.fixture
def tokens() -> Iterator[tuple[Emulator, Http]]:
    """An emulator with two users behind tokens, and a client that sends no token by default."""
    with serve(clock="manual", tokens={"ta": "alice", "tb": "bob"}) as emulator:
        client = Http(emulator)
        yield emulator, client
        client.close()


# -- jobs ---------------------------------------------------------------------------------------


def test_create_get_and_list_a_job(fresh_manual_emu: Emulator, http: Http) -> None:
    body = http.job_body("ML", "w1", {"duration_s": 2}, timeout_mins=5)
    reply = http.ok("POST", "/v1alpha1/jobs", body)
    assert set(reply) == {"id"}
    job = http.ok("GET", f"/v1alpha1/jobs/ML/{reply['id']}")["job"]
    assert set(job) == JOB_FIELDS
    assert job == {
        "id": reply["id"],
        "type": "ML",
        "state": "CREATED",
        "worker_name": "w1",
        "created_by": "emulator_user",
        "created_on": "2026-01-01T00:00:00.000Z",
        "finished_at": None,
        "duration": None,
        "payload": body["payload"],
        "timeout_ms": 300_000,
        "abort_reason": None,
    }
    fresh_manual_emu.engine.advance(2)
    done = http.ok("GET", f"/v1alpha1/jobs/ML/{reply['id']}")["job"]
    assert (done["state"], done["duration"]) == ("COMPLETED", 2000)
    assert done["finished_at"] == "2026-01-01T00:00:02.000Z"
    assert http.ok("GET", "/v1alpha1/jobs") == {"jobs": [done]}


def test_job_list_is_newest_first_across_types(fresh_manual_emu: Emulator, http: Http) -> None:
    first = http.create_job("ML")
    fresh_manual_emu.engine.advance(1)
    second = http.create_job("SOLVER")
    third = http.create_job("ml")
    jobs = http.ok("GET", "/v1alpha1/jobs")["jobs"]
    expected = [(third, "ML"), (second, "SOLVER"), (first, "ML")]
    assert [(j["id"], j["type"]) for j in jobs] == expected


def test_job_events_paged_to_the_end(fresh_manual_emu: Emulator, http: Http) -> None:
    job_id = http.create_job("SOLVER", emulate={"duration_s": 10, "events": 25})
    path = f"/v1alpha1/jobs/SOLVER/{job_id}/events/progress"
    fresh_manual_emu.engine.advance(8)
    first = http.ok("GET", path)
    assert len(first["events"]) == 10
    second = http.ok("GET", f"{path}?continuation_token={quote(first['continuation_token'])}")
    assert [e["index"] for e in second["events"]] == [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
    caught_up = http.ok("GET", f"{path}?continuation_token={second['continuation_token']}")
    assert caught_up == {"events": [], "continuation_token": second["continuation_token"]}
    fresh_manual_emu.engine.advance(2)
    token = second["continuation_token"]
    indexes = []
    while token is not None:
        page = http.ok("GET", f"{path}?continuation_token={token}")
        indexes += [e["index"] for e in page["events"]]
        token = page["continuation_token"]
    assert indexes == [21, 22, 23, 24, 25]
    restart = http.ok("GET", f"{path}?continuation_token=0")
    assert restart["events"] == first["events"]


def test_cancel_a_running_job_then_again(fresh_manual_emu: Emulator, http: Http) -> None:
    job_id = http.create_job("ML", emulate={"duration_s": 60})
    fresh_manual_emu.engine.advance(1)
    reply = http.ok("POST", f"/v1alpha1/jobs/ML/{job_id}/cancel")
    assert reply == {"id": job_id, "state": "CANCELED"}
    fresh_manual_emu.engine.advance(100)
    assert http.ok("POST", f"/v1alpha1/jobs/ML/{job_id}/cancel")["state"] == "CANCELED"
    job = http.ok("GET", f"/v1alpha1/jobs/ML/{job_id}")["job"]
    assert (job["state"], job["duration"], job["abort_reason"]) == ("CANCELED", 1000, None)


@pytest.mark.parametrize(
    ("script", "state", "reason"),
    [
        ({"outcome": "FAILED", "abort_reason": "solver crashed"}, "FAILED", "solver crashed"),
        ({"outcome": "ABORTED"}, "ABORTED", None),
        ({}, "COMPLETED", None),
    ],
)
def test_scripted_job_outcomes(
    fresh_manual_emu: Emulator, http: Http, script: dict[str, Any], state: str, reason: str | None
) -> None:
    job_id = http.create_job("ML", emulate={"duration_s": 3, **script})
    fresh_manual_emu.engine.advance(3)
    job = http.ok("GET", f"/v1alpha1/jobs/ML/{job_id}")["job"]
    assert (job["state"], job["abort_reason"]) == (state, reason)


def test_timeout_aborts_a_job(fresh_manual_emu: Emulator, http: Http) -> None:
    job_id = http.create_job("ML", emulate={"duration_s": 3600}, timeout_mins=1)
    fresh_manual_emu.engine.advance(61)
    job = http.ok("GET", f"/v1alpha1/jobs/ML/{job_id}")["job"]
    assert (job["state"], job["duration"], job["timeout_ms"]) == ("ABORTED", 60_000, 60_000)
    assert "timeout" in job["abort_reason"]


def test_unscripted_job_completes_in_about_half_a_second_of_real_time() -> None:
    with serve() as emu:
        client = Http(emu)
        try:
            started = time.monotonic()
            job_id = client.create_job("ML")
            states = set()
            while time.monotonic() - started < 5:
                job = client.ok("GET", f"/v1alpha1/jobs/ML/{job_id}")["job"]
                states.add(job["state"])
                if job["state"] == "COMPLETED":
                    break
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            events = client.ok("GET", f"/v1alpha1/jobs/ML/{job_id}/events/progress")
        finally:
            client.close()
    assert job["state"] == "COMPLETED"
    assert 0.45 <= elapsed < 5
    assert states <= {"CREATED", "PENDING", "RUNNING", "COMPLETED"}
    assert 400 <= job["duration"] <= 600
    assert len(events["events"]) == 3
    assert events["continuation_token"] is None


# -- transactions -------------------------------------------------------------------------------


def test_create_get_and_list_a_transaction(fresh_manual_emu: Emulator, http: Http) -> None:
    body = http.transaction_body(
        "e1", readonly=False, abort_detached=True, headers={"emulate": {"duration_s": 1}}
    )
    reply = http.ok("POST", "/v1alpha1/transactions?use_graph_index=false", body)
    txn_id = reply["transaction"]["id"]
    assert reply == {"transaction": {"id": txn_id, "state": "CREATED"}}
    txn = http.ok("GET", f"/v1alpha1/transactions/{txn_id}")["transaction"]
    assert set(txn) == TRANSACTION_FIELDS
    assert (txn["database_name"], txn["engine_name"], txn["read_only"]) == ("db", "e1", False)
    assert (txn["created_by"], txn["created_on"]) == ("emulator_user", "2026-01-01T00:00:00.000Z")
    fresh_manual_emu.engine.advance(1)
    done = http.ok("GET", f"/v1alpha1/transactions/{txn_id}")["transaction"]
    assert (done["state"], done["duration"]) == ("COMPLETED", 1000)
    assert http.ok("GET", "/v1alpha1/transactions") == {"transactions": [done]}


@pytest.mark.parametrize(
    "fields",
    [
        {"dbname": "db", "raw_code": "def output = 1"},
        {"database_name": "db", "code": "def output = 1", "v1_inputs": [], "language": "rel"},
    ],
)
def test_transaction_payload_spellings(
    fresh_manual_emu: Emulator, http: Http, fields: dict[str, Any]
) -> None:
    reply = http.ok("POST", "/v1alpha1/transactions", {"engine_name": "e1", **fields})
    txn = http.ok("GET", f"/v1alpha1/transactions/{reply['transaction']['id']}")["transaction"]
    assert (txn["database_name"], txn["read_only"]) == ("db", True)


def test_transaction_list_is_newest_first(fresh_manual_emu: Emulator, http: Http) -> None:
    first = http.create_transaction()
    fresh_manual_emu.engine.advance(1)
    second = http.create_transaction()
    listed = http.ok("GET", "/v1alpha1/transactions")["transactions"]
    assert [t["id"] for t in listed] == [second, first]


def test_transaction_events_artifacts_and_problems(fresh_manual_emu: Emulator, http: Http) -> None:
    script = {
        "duration_s": 4,
        "events": 12,
        "outcome": "FAILED",
        "abort_reason": "integrity constraint violation",
        "artifacts": ["out.csv", {"filename": "rel.json", "content_type": "application/json"}],
        "problems": [{"type": "IntegrityConstraintViolation", "message": "ic failed"}],
    }
    txn_id = http.create_transaction(headers={"emulate": script})
    base = f"/v1alpha1/transactions/{txn_id}"
    assert http.ok("GET", f"{base}/artifacts") == {"results": []}
    fresh_manual_emu.engine.advance(4)
    first = http.ok("GET", f"{base}/events/progress?continuation_token=")
    token = first["continuation_token"]
    second = http.ok("GET", f"{base}/events/progress?continuation_token={token}")
    assert [len(first["events"]), len(second["events"])] == [10, 2]
    assert second["continuation_token"] is None
    assert http.ok("GET", f"{base}/artifacts") == {
        "results": [
            {"filename": "out.csv"},
            {"filename": "rel.json", "content_type": "application/json"},
        ]
    }
    assert http.ok("GET", f"{base}/problems") == {
        "problems": [{"type": "IntegrityConstraintViolation", "message": "ic failed"}]
    }
    txn = http.ok("GET", base)["transaction"]
    assert (txn["state"], txn["abort_reason"]) == ("FAILED", "integrity constraint violation")


def test_a_transaction_scripted_in_the_body(fresh_manual_emu: Emulator, http: Http) -> None:
    txn_id = http.create_transaction(
        emulate={"outcome": "ABORTED", "abort_reason": "client disconnected", "duration_s": 1}
    )
    fresh_manual_emu.engine.advance(1)
    txn = http.ok("GET", f"/v1alpha1/transactions/{txn_id}")["transaction"]
    assert (txn["state"], txn["abort_reason"]) == ("ABORTED", "client disconnected")


def test_cancel_async_a_transaction(fresh_manual_emu: Emulator, http: Http) -> None:
    txn_id = http.create_transaction(headers={"emulate": {"duration_s": 30}})
    fresh_manual_emu.engine.advance(2)
    reply = http.ok("POST", f"/v1alpha1/transactions/{txn_id}/cancel_async")
    assert reply == {"id": txn_id, "state": "CANCELED"}
    assert http.ok("POST", f"/v1alpha1/transactions/{txn_id}/cancel_async")["state"] == "CANCELED"


def test_transaction_timeout(fresh_manual_emu: Emulator, http: Http) -> None:
    txn_id = http.create_transaction(timeout_mins=2, headers={"emulate": {"duration_s": 1000}})
    fresh_manual_emu.engine.advance(120)
    txn = http.ok("GET", f"/v1alpha1/transactions/{txn_id}")["transaction"]
    assert (txn["state"], txn["duration"]) == ("ABORTED", 120_000)


# -- users --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, 'Snowflake Token="nope"', "Bearer nope", "Basic dGE6"]
)
def test_a_missing_or_wrong_token_is_401(
    tokens: tuple[Emulator, Http], authorization: str | None
) -> None:
    _, client = tokens
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [("GET", "/v1alpha1/jobs"), ("POST", "/v1alpha1/transactions")]:
        reply = client.call(method, path, {}, headers=headers)
        assert reply.status == 401
        assert "token" in reply.json()["message"]


def test_tokens_map_to_users(tokens: tuple[Emulator, Http]) -> None:
    _, client = tokens
    job_id = client.create_job("ML", token="ta")
    job = client.ok("GET", f"/v1alpha1/jobs/ML/{job_id}", headers={"Authorization": "Bearer tb"})
    assert job["job"]["created_by"] == "alice"
    txn_id = client.create_transaction(token="tb")
    txn = client.ok("GET", f"/v1alpha1/transactions/{txn_id}", token="ta")["transaction"]
    assert txn["created_by"] == "bob"


def test_a_user_reads_and_cancels_only_its_own_transactions(
    tokens: tuple[Emulator, Http],
) -> None:
    _, client = tokens
    txn_id = client.create_transaction(token="ta", headers={"emulate": {"duration_s": 10}})
    base = f"/v1alpha1/transactions/{txn_id}"
    for method, path in [
        ("GET", f"{base}/events/progress"),
        ("GET", f"{base}/artifacts"),
        ("GET", f"{base}/problems"),
        ("POST", f"{base}/cancel_async"),
    ]:
        reply = client.call(method, path, token="tb")
        assert reply.status == 403, path
        assert "another user" in reply.json()["message"]
    assert client.ok("GET", base, token="tb")["transaction"]["state"] == "CREATED"
    assert len(client.ok("GET", "/v1alpha1/transactions", token="tb")["transactions"]) == 1
    assert client.ok("POST", f"{base}/cancel_async", token="ta")["state"] == "CANCELED"


def test_jobs_are_anyones_to_cancel(tokens: tuple[Emulator, Http]) -> None:
    _, client = tokens
    job_id = client.create_job("SOLVER", token="ta", emulate={"duration_s": 10})
    reply = client.ok("POST", f"/v1alpha1/jobs/SOLVER/{job_id}/cancel", token="tb")
    assert reply["state"] == "CANCELED"


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/v1alpha1/jobs", b"{not json", "not valid JSON"),
        ("POST", "/v1alpha1/jobs", b"[1, 2]", "JSON object"),
        ("POST", "/v1alpha1/jobs", {"job_type": "ML", "payload": "{}"}, "worker_name"),
        ("POST", "/v1alpha1/jobs", {"worker_name": "w", "payload": "{}"}, "job_type"),
        ("POST", "/v1alpha1/jobs", {"job_type": "X", "worker_name": "w", "payload": "{}"}, "X"),
        ("POST", "/v1alpha1/jobs", {"job_type": "ML", "worker_name": "w"}, "payload"),
        (
            "POST",
            "/v1alpha1/jobs",
            {"job_type": "ML", "worker_name": "w", "payload": "{}", "timeout_mins": "5"},
            "timeout_mins",
        ),
        (
            "POST",
            "/v1alpha1/jobs",
            {"job_type": "ML", "worker_name": "w", "payload": '{"emulate": {"outcome": 1}}'},
            "outcome",
        ),
        ("POST", "/v1alpha1/transactions", {"engine_name": "e", "query": "q"}, "database"),
        ("POST", "/v1alpha1/transactions", {"engine_name": "e", "database": "d"}, "query"),
        ("POST", "/v1alpha1/transactions", {"database": "d", "query": "q"}, "engine_name"),
        (
            "POST",
            "/v1alpha1/transactions",
            {"engine_name": "e", "database": "d", "query": "q", "readonly": "yes"},
            "readonly",
        ),
        ("GET", "/v1alpha1/jobs/LOGIC/abc", None, "job_type"),
        ("GET", "/v1alpha1/jobs/nonsense/abc/events/progress", None, "job_type"),
    ],
)
def test_invalid_requests_are_400(
    http: Http, method: str, path: str, body: Any, message: str
) -> None:
    reply = http.call(method, path, body)
    assert reply.status == 400, reply.body
    assert message in reply.json()["message"]


def test_an_unknown_stream_or_token_is_400(http: Http) -> None:
    job_id = http.create_job("ML")
    for path in [
        f"/v1alpha1/jobs/ML/{job_id}/events/logs",
        f"/v1alpha1/jobs/ML/{job_id}/events/progress?continuation_token=zzz",
    ]:
        reply = http.call("GET", path)
        assert reply.status == 400
        assert reply.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1alpha1/jobs/ML/no-such-job"),
        ("GET", "/v1alpha1/jobs/ML/no-such-job/events/progress"),
        ("POST", "/v1alpha1/jobs/ML/no-such-job/cancel"),
        ("GET", "/v1alpha1/transactions/no-such-txn"),
        ("GET", "/v1alpha1/transactions/no-such-txn/events/progress"),
        ("GET", "/v1alpha1/transactions/no-such-txn/artifacts"),
        ("GET", "/v1alpha1/transactions/no-such-txn/problems"),
        ("POST", "/v1alpha1/transactions/no-such-txn/cancel_async"),
        ("GET", "/v1alpha1/nothing-here"),
        ("GET", "/v1alpha1/jobs/ML/a/b/c/d"),
    ],
)
def test_unknown_ids_and_paths_are_404(http: Http, method: str, path: str) -> None:
    reply = http.call(method, path)
    assert reply.status == 404
    assert reply.json()["message"]
    assert "not ready" not in reply.json()["message"]


def test_a_job_of_another_type_is_404(http: Http) -> None:
    job_id = http.create_job("ML")
    assert http.call("GET", f"/v1alpha1/jobs/SOLVER/{job_id}").status == 404
    assert http.call("GET", f"/v1alpha1/transactions/{job_id}").status == 404


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1alpha1/jobs", "GET, HEAD, POST"),
        ("POST", "/v1alpha1/jobs/ML/x", "GET, HEAD"),
        ("GET", "/v1alpha1/jobs/ML/x/cancel", "POST"),
        ("PUT", "/v1alpha1/transactions/x/artifacts", "GET, HEAD"),
        ("GET", "/oauth/token", "POST"),
        ("POST", "/_emulator/clock", "GET, HEAD"),  # the admin API answered these 404
        ("GET", "/_emulator/clock/advance", "POST"),
        ("GET", "/_emulator/reset", "POST"),
    ],
)
def test_wrong_method_is_405_with_the_methods_allowed(
    http: Http, method: str, path: str, allowed: str
) -> None:
    reply = http.call(method, path)
    assert reply.status == 405
    assert method in reply.json()["message"]
    assert reply.headers["allow"] == allowed  # RFC 9110 §15.5.6: a 405 must carry `Allow`


def test_not_ready_engine_is_the_not_ready_404(fresh_manual_emu: Emulator, http: Http) -> None:
    job_id = http.create_job("ML", "w1")
    fresh_manual_emu.engine.set_not_ready("w1")
    fresh_manual_emu.engine.set_not_ready("e1")
    for method, path, body in [
        ("POST", "/v1alpha1/jobs", http.job_body("ML", "w1")),
        ("GET", f"/v1alpha1/jobs/ML/{job_id}", None),
        ("GET", f"/v1alpha1/jobs/ML/{job_id}/events/progress", None),
        ("POST", "/v1alpha1/transactions", http.transaction_body("e1")),
        ("POST", "/v1alpha1/jobs", http.job_body("ML", "w2", {"not_ready": True})),
        (
            "POST",
            "/v1alpha1/transactions",
            http.transaction_body("e2", headers={"emulate": {"not_ready": True}}),
        ),
    ]:
        reply = http.call(method, path, body)
        assert (reply.status, reply.json()) == (404, NOT_READY), path
    assert len(http.ok("GET", "/v1alpha1/jobs")["jobs"]) == 1
    assert http.ok("GET", "/v1alpha1/transactions")["transactions"] == []


def test_percent_encoded_ids(fresh_manual_emu: Emulator, http: Http) -> None:
    job_id = http.create_job("ML")
    encoded = quote(job_id, safe="")
    assert http.ok("GET", f"/v1alpha1/jobs/%4DL/{encoded}")["job"]["id"] == job_id


# -- the admin API ------------------------------------------------------------------------------


def test_admin_api_drives_the_engine(fresh_manual_emu: Emulator, http: Http) -> None:
    http.ok("POST", "/_emulator/scripts", {"name": "w1", "emulate": {"outcome": "FAILED"}})
    http.ok("POST", "/_emulator/not_ready", {"name": "w2", "not_ready": True})
    job_id = http.create_job("ML", "w1")
    assert http.call("POST", "/v1alpha1/jobs", http.job_body("ML", "w2")).status == 404
    assert http.ok("POST", "/_emulator/clock/advance", {"seconds": 1}) == {
        "now": "2026-01-01T00:00:01.000Z"
    }
    assert http.ok("GET", "/_emulator/clock") == {"now": "2026-01-01T00:00:01.000Z", "manual": True}
    assert http.ok("GET", f"/v1alpha1/jobs/ML/{job_id}")["job"]["state"] == "FAILED"
    http.ok("POST", "/_emulator/reset")
    assert http.ok("GET", "/v1alpha1/jobs") == {"jobs": []}
    assert http.call("POST", "/_emulator/clock/advance", {"seconds": -1}).status == 400
    assert http.call("POST", "/_emulator/scripts", {"emulate": {}}).status == 400
    assert http.call("GET", "/_emulator/nothing").status == 404


def test_admin_advance_needs_a_manual_clock() -> None:
    with serve() as emu:
        client = Http(emu)
        try:
            reply = client.call("POST", "/_emulator/clock/advance", {"seconds": 1})
        finally:
            client.close()
    assert reply.status == 400
    assert "ManualClock" in reply.json()["message"]
