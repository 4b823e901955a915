"""A token the client only has once it runs (read from a file, returned by a callable, exchanged
for a key-pair login) is masked like a fixed one: a server that quotes the Authorization header
back gets it into no error message, cassette line or log record."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jobs_emulator
from jobs_core import JobError
from jobs_transports import JobsClientSync, connect_sync
from tests.accounts.accounts_setup import PAT, write_yaml
from tests.accounts.conftest import KeyFiles

SOURCES = ("fixed", "callable", "file", "key-pair")
FIXED = "tok-fixed-5ecret-abc"
CALLED = "tok-called-5ecret-abc"


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers every request 400, quoting its Authorization header (and records it)."""

    seen: list[str]

    def _answer(self) -> None:
        authorization = self.headers.get("Authorization", "")
        self.seen.append(authorization)
        body = json.dumps({"message": f"bad auth: {authorization}"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[str, list[str]]]:
    """The base URL of a server that quotes the Authorization header back, and what it saw."""
    seen: list[str] = []
    handler = type("Echo", (_Echo,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def emu(keys: KeyFiles, echo: tuple[str, list[str]]) -> Iterator[jobs_emulator.Emulator]:
    """An emulator whose SQL API logs users in and exchanges their tokens, and which names the
    echo server as the Direct Access endpoint (discovery and the exchange's scope agree on it)."""
    users = {"ALICE": {"public_key": keys.public_pem}, "PATTY": {"pat": PAT}}
    with jobs_emulator.serve(users=users, app="RELATIONALAI") as emulator:
        # No public way to point the advertised endpoint at another server: a test-only reach.
        emulator._endpoint.move(int(echo[0].rsplit(":", 1)[1]))
        yield emulator


def _client(
    source: str,
    base_url: str,
    emu: jobs_emulator.Emulator,
    home: Path,
    keys: KeyFiles,
    record: Path,
) -> JobsClientSync:
    if source == "fixed":
        return connect_sync(base_url=base_url, token=FIXED, record=record)
    if source == "callable":
        return connect_sync(base_url=base_url, token=lambda: CALLED, record=record)
    if source == "file":
        token_file = home / "pat.txt"
        token_file.write_text(PAT + "\n")
        credentials = {
            "authenticator": "programmatic_access_token",
            "token_file_path": str(token_file),
        }
        write_yaml(home, emu, credentials, "PATTY")
    else:
        keys.plain.chmod(0o600)
        credentials = {"authenticator": "jwt", "private_key_path": str(keys.plain)}
        write_yaml(home, emu, credentials, "ALICE")
    return connect_sync(record=record)


def _chain(error: BaseException) -> str:
    texts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(texts) < 20:
        texts.append(f"{current!r} {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


@pytest.mark.parametrize("source", SOURCES)
def test_a_token_obtained_at_run_time_is_masked(
    source: str,
    echo: tuple[str, list[str]],
    emu: jobs_emulator.Emulator,
    home: Path,
    keys: KeyFiles,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base_url, seen = echo
    seen.clear()
    record = home / "calls.jsonl"
    caplog.set_level(logging.DEBUG)
    with (
        _client(source, base_url, emu, home, keys, record) as client,
        pytest.raises(JobError) as caught,
    ):
        client.get("Logic", "no-such-job")
    assert seen, "the echo server was not asked"
    tokens = {header.removeprefix('Snowflake Token="').removesuffix('"') for header in seen}
    assert all(len(token) > 8 for token in tokens)
    produced = {
        "error": _chain(caught.value),
        "cassette": record.read_text(encoding="utf-8"),
        "log": "\n".join(
            f"{entry.getMessage()} {entry.exc_text or ''}" for entry in caplog.records
        ),
    }
    assert "[REDACTED]" in produced["error"]  # the server did quote it
    for token in tokens:
        assert {name for name, text in produced.items() if token in text} == set()
