"""Requests a careless or hostile client sends: bodies nested 100,000 deep, HEAD, encoded `/`.

Each is answered as a clean 4xx (or a SQL error), the connection and the server carry on, and
nothing is logged as a crash.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from jobs_emulator import Emulator
from tests.emulator.loopback_http import Http, RawConnection

DEEP = "[" * 100_000


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1alpha1/jobs", DEEP),
        ("/v1alpha1/jobs", json.dumps({"job_type": "ML", "worker_name": "w", "payload": DEEP})),
        ("/v1alpha1/transactions", DEEP),
        ("/_emulator/scripts", DEEP),
        ("/queries/v1/query-request", DEEP),
        ("/session/v1/login-request", DEEP),
    ],
)
def test_a_body_nested_too_deep_is_a_bad_request(
    http: Http, caplog: pytest.LogCaptureFixture, path: str, body: str
) -> None:
    reply = http.call("POST", path, body.encode())
    assert reply.status == 400, reply.body[:200]
    assert "handler failed" not in caplog.text
    assert http.call("GET", "/v1alpha1/jobs").status == 200


def test_a_sql_argument_nested_too_deep_is_a_sql_error(
    fresh_manual_emu: Emulator, http: Http
) -> None:
    login = http.ok("POST", "/session/v1/login-request", {"data": {"LOGIN_NAME": "x"}})
    query = {
        "sqlText": f"call {fresh_manual_emu.app}.api.EXEC_JOB_ASYNC(?, ?, PARSE_JSON(?))",
        "bindings": {
            str(n): {"type": "TEXT", "value": value} for n, value in enumerate(["ML", "w", DEEP], 1)
        },
    }
    token = login["data"]["token"]
    answer = http.ok("POST", "/queries/v1/query-request", query, headers={}, token=token)
    assert answer["success"] is False
    assert "nests too deeply" in answer["message"]


def test_head_is_answered_as_get_without_a_body_on_a_kept_connection(
    fresh_manual_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    raw = RawConnection(fresh_manual_emu)
    try:
        get = raw.request("GET", "/v1alpha1/transactions")
        head = raw.request("HEAD", "/v1alpha1/transactions")
        missing = raw.request("HEAD", "/v1alpha1/nothing")
        after = raw.request("GET", "/v1alpha1/transactions")
    finally:
        raw.close()
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-length"] == str(len(get.body))
    assert (missing.status, missing.body) == (404, b"")
    assert after.body == get.body
    assert "connection failed" not in caplog.text


def test_an_encoded_slash_stays_inside_its_segment(http: Http) -> None:
    transaction_id = http.create_transaction()
    job_id = http.create_job("ML")
    for path in (
        f"/v1alpha1/transactions/{transaction_id}%2Fevents%2Fprogress",
        f"/v1alpha1/jobs/ML/{job_id}%2Fevents%2Fprogress",
        f"/v1alpha1/jobs/ML/{job_id}%2Fcancel",
    ):
        reply = http.call("GET", path)
        assert reply.status == 404
        assert (
            "/events/progress not found" in reply.json()["message"]
            or "cancel not found" in (reply.json()["message"])
        )
    whole = http.ok("GET", f"/v1alpha1/jobs/ML/{quote(job_id, safe='')}")
    assert whole["job"]["id"] == job_id
    assert http.ok("GET", f"/v1alpha1/jobs/%4DL/{job_id}")["job"]["id"] == job_id
