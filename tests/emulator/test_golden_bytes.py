"""The emulator's answers, byte for byte: status line, headers and body of a fixed conversation.

The conversation runs on a manual clock with ids drawn from a counter, so every byte is fixed.
`golden_responses.json` was recorded from the emulator before its server was made faster; a
change of server must not change a byte. Regenerate it (only for an intended change of the
answers) with `python -m tests.emulator.test_golden_bytes`.
"""

from __future__ import annotations

import itertools
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from jobs_emulator import Emulator, serve
from tests.emulator.loopback_http import read_raw_response

GOLDEN = Path(__file__).with_name("golden_responses.json")
JOB = "00000000-0000-4000-8000-000000000001"
TXN = "00000000-0000-4000-8000-000000000002"


def _request(method: str, path: str, body: object = None, *, extra: str = "") -> bytes:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: emulator\r\n{extra}Content-Length: {len(data)}\r\n"
    return head.encode() + b"\r\n" + data


def _job(emulate: dict[str, object]) -> dict[str, object]:
    return {"job_type": "ML", "worker_name": "w1", "payload": json.dumps({"emulate": emulate})}


_TOKEN = 'Authorization: Snowflake Token="emulator-session.YWxpY2U="\r\n'
_GET_JOB = {
    "sqlText": "call JOBS_APP.api.GET_JOB(?, ?)",
    "bindings": {"1": {"type": "TEXT", "value": "ML"}, "2": {"type": "TEXT", "value": JOB}},
}
_TXN = {"database": "db", "query": "q", "engine_name": "e1", "headers": {"emulate": {}}}

CONVERSATION: list[bytes] = [
    _request("POST", "/v1alpha1/jobs", _job({"duration_s": 10, "events": 5})),
    _request("GET", f"/v1alpha1/jobs/ML/{JOB}"),
    _request("GET", "/v1alpha1/jobs"),
    _request("POST", "/_emulator/clock/advance", {"seconds": 5}),
    _request("GET", f"/v1alpha1/jobs/ML/{JOB}/events/progress"),
    _request("GET", f"/v1alpha1/jobs/ml/{JOB}/events/progress?continuation_token=bad"),
    _request("POST", "/v1alpha1/transactions", _TXN),
    _request("GET", f"/v1alpha1/transactions/{TXN}"),
    _request("GET", f"/v1alpha1/transactions/{TXN}/artifacts"),
    _request("GET", f"/v1alpha1/transactions/{TXN}/problems"),
    _request("POST", f"/v1alpha1/transactions/{TXN}/cancel_async"),
    _request("POST", f"/v1alpha1/jobs/ML/{JOB}/cancel"),
    _request("GET", "/v1alpha1/transactions"),
    _request("GET", "/v1alpha1/nothing/here"),
    _request("DELETE", "/v1alpha1/jobs"),
    _request("POST", "/v1alpha1/jobs", b"{not json"),
    _request("GET", "/_emulator/clock"),
    _request("POST", "/session/v1/login-request", {"data": {"LOGIN_NAME": "alice"}}),
    _request("POST", "/queries/v1/query-request", _GET_JOB, extra=_TOKEN),
    _request("POST", "/queries/v1/query-request", {"sqlText": "drop table x"}, extra=_TOKEN),
    _request("POST", "/oauth/token", b"grant_type=password"),
    _request("GET", "/v1alpha1/jobs", extra="Connection: close\r\n"),
]
"""One keep-alive connection; the last request asks the server to close it."""


def converse(emu: Emulator) -> list[str]:
    """Return the raw answers to the conversation, each as latin-1 text."""
    answers: list[str] = []
    with socket.create_connection((emu.host, emu.port), timeout=10) as sock:
        buffer = b""
        for request in CONVERSATION:
            sock.sendall(request)
            answer, buffer = read_raw_response(sock, buffer)
            answers.append(answer.decode("latin-1"))
        assert sock.recv(1) == b"", "the server kept a connection the client asked to close"
    return answers


def _counting_uuid4() -> Iterator[uuid.UUID]:
    for n in itertools.count(1):
        yield uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


@pytest.fixture
def deterministic_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    ids = _counting_uuid4()
    fake = SimpleNamespace(uuid4=lambda: next(ids))
    monkeypatch.setattr("jobs_emulator._engine.uuid", fake)
    monkeypatch.setattr("jobs_emulator._snowflake_api.uuid", fake)
    with serve(clock="manual") as emu:
        yield emu


def _normalised(answers: list[str], emu: Emulator) -> list[str]:
    # The one thing that differs between runs: the port in messages that name the endpoint.
    return [answer.replace(f":{emu.port}", ":PORT") for answer in answers]


def test_the_answers_are_the_recorded_bytes(deterministic_emulator: Emulator) -> None:
    answers = _normalised(converse(deterministic_emulator), deterministic_emulator)
    assert answers == json.loads(GOLDEN.read_text())


if __name__ == "__main__":
    with pytest.MonkeyPatch.context() as patch:
        counter = _counting_uuid4()
        namespace = SimpleNamespace(uuid4=lambda: next(counter))
        patch.setattr("jobs_emulator._engine.uuid", namespace)
        patch.setattr("jobs_emulator._snowflake_api.uuid", namespace)
        with serve(clock="manual") as emulator:
            recorded = _normalised(converse(emulator), emulator)
    GOLDEN.write_text(json.dumps(recorded, indent=1) + "\n")
    print(f"wrote {len(recorded)} answers to {GOLDEN}")
