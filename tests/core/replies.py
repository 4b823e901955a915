"""Backend replies for core tests: HTTP bodies and SQL rows of jobs and transactions."""

from __future__ import annotations

import json
from typing import Any

from jobs_core import ClientConfig, HttpResponse, SqlRows

HTTP = ClientConfig(http=True)
SQL = ClientConfig(sql=True, app="APP")
HYBRID = ClientConfig(http=True, sql=True, app="APP")
CONFIGS = {"http": HTTP, "sql": SQL, "hybrid": HYBRID}

JOB_COLUMNS = (
    "ID", "REASONER_TYPE", "REASONER_NAME", "STATE", "CREATED_BY", "CREATED_ON",
    "FINISHED_AT", "DURATION", "PAYLOAD", "TIMEOUT_MS", "ABORT_REASON",
)  # fmt: skip
TXN_COLUMNS = (
    "ID", "DATABASE_NAME", "ENGINE_NAME", "STATE", "ABORT_REASON", "READ_ONLY",
    "CREATED_BY", "CREATED_ON", "FINISHED_AT", "DURATION",
)  # fmt: skip


def response(status: int, body: Any, headers: tuple[tuple[str, str], ...] = ()) -> HttpResponse:
    """Return a JSON response (a `bytes` body is sent as is)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, (("Content-Type", "application/json"), *headers), data)


def ok(body: Any) -> HttpResponse:
    return response(200, body)


def job_json(
    job_id: str = "j1", type_: str = "ML", state: str = "RUNNING", **more: Any
) -> dict[str, Any]:
    """A Direct Access job object."""
    return {
        "id": job_id,
        "type": type_,
        "state": state,
        "worker_name": "w1",
        "created_by": "alice",
        "created_on": "2026-01-01T00:00:00Z",
        "finished_at": None,
        "duration": None,
        "payload": "{}",
        "timeout_ms": None,
        "abort_reason": None,
        **more,
    }


def txn_json(txn_id: str = "t1", state: str = "RUNNING", **more: Any) -> dict[str, Any]:
    """A Direct Access transaction object."""
    return {
        "id": txn_id,
        "database_name": "db",
        "engine_name": "e1",
        "state": state,
        "abort_reason": None,
        "read_only": True,
        "created_by": "alice",
        "created_on": "2026-01-01T00:00:00Z",
        "finished_at": None,
        "duration": None,
        **more,
    }


def job_row(job_id: str = "j1", type_: str = "ML", state: str = "RUNNING", **more: Any) -> SqlRows:
    """A one-row SQL answer holding a job."""
    values = {
        **dict(zip(JOB_COLUMNS, (job_id, type_, "w1", state, "alice") + (None,) * 6, strict=True)),
        **more,
    }
    return SqlRows(JOB_COLUMNS, (tuple(values[c] for c in JOB_COLUMNS),))


def txn_row(txn_id: str = "t1", state: str = "RUNNING", **more: Any) -> SqlRows:
    """A one-row SQL answer holding a transaction."""
    values = {
        **dict(
            zip(
                TXN_COLUMNS,
                (txn_id, "db", "e1", state, None, True, "alice", None, None, None),
                strict=True,
            )
        ),
        **more,
    }
    return SqlRows(TXN_COLUMNS, (tuple(values[c] for c in TXN_COLUMNS),))
