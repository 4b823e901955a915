"""`replay=` of a cassette file that is missing, unreadable or damaged gives `CassetteError`.

A session recorded against the emulator (every public call, through both backends) is damaged
at random, byte by byte and line by line, and replayed through `connect_sync(replay=...)`: it
either replays or fails with `CassetteError`, never with any other exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jobs_emulator
from jobs_core import CassetteError, JobError
from jobs_transports import JobsClientSync, connect, connect_sync
from tests.drivers.conftest import TOKENS, client_options

LOGIC = {"database": "db", "query": "q", "headers": {"emulate": {"duration_s": 0.2, "events": 3}}}


def session(client: JobsClientSync) -> list[Any]:
    """A little of every call; returns what they gave."""
    op = client.create("Logic", "fuzz", LOGIC)
    return [
        client.wait(
            "Logic",
            op.id,
            include={"events": True, "artifacts": True},
            timeout_s=30,
            poll_interval_s=0.05,
        ),
        client.get("Logic", op.id, include={"problems": True, "raw": True}),
        client.get_events("Logic", op.id),
        client.create_ready(
            "Predictive",
            "fuzz",
            {"emulate": {"duration_s": 0.2}},
            timeout_s=30,
            poll_interval_s=0.05,
        ),
        client.list(name="fuzz"),
        client.get("Predictive", "no-such-job"),
    ]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cassettes")
    cassettes = {}
    with jobs_emulator.serve(tokens=TOKENS) as emu:
        for backend in ("http", "hybrid"):
            path = folder / f"{backend}.jsonl"
            with connect_sync(**client_options(emu, backend), record=path) as client:
                session(client)
            cassettes[backend] = path
    return cassettes


def test_a_missing_file_is_a_cassette_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="cannot read the cassette"):
        connect_sync(replay=tmp_path / "nothing-here.jsonl")


def test_a_directory_is_a_cassette_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="cannot read the cassette"):
        connect_sync(replay=tmp_path)


@pytest.mark.parametrize("where", ["missing folder", "folder"])
@pytest.mark.parametrize("runtime", ["sync", "async"])
def test_a_cassette_that_cannot_be_written_is_a_cassette_error(
    tmp_path: Path, where: str, runtime: str
) -> None:
    path = tmp_path / "no-such-folder" / "c.jsonl" if where == "missing folder" else tmp_path
    open_connect = connect_sync if runtime == "sync" else connect
    with pytest.raises(CassetteError, match="cannot write the cassette"):
        open_connect(base_url="http://127.0.0.1:9", token="t0ken-value", record=path)


def test_a_file_that_is_not_utf8_names_the_line(
    tmp_path: Path, recordings: dict[str, Path]
) -> None:
    lines = recordings["http"].read_bytes().splitlines(keepends=True)
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b"".join([*lines[:3], b"\xe9" + lines[3], *lines[4:]]))
    with pytest.raises(CassetteError, match=r"line 4: not UTF-8"):
        connect_sync(replay=path)


def _replay(path: Path) -> list[Any] | None:
    """Replay `session` from `path`: what it gave, or None when an (edited) reply made a call fail
    with one of the library's errors, which is a faithful replay too."""
    with connect_sync(replay=path) as client:
        try:
            return session(client)
        except CassetteError:
            raise
        except JobError:
            return None


def test_the_recordings_replay(recordings: dict[str, Path]) -> None:
    for path in recordings.values():
        outcomes = _replay(path)
        assert outcomes is not None
        assert outcomes[0].state == "COMPLETED"
        assert outcomes[-1] is None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    backend=st.sampled_from(["http", "hybrid"]),
    how=st.sampled_from(["byte", "bytes", "drop line", "swap lines", "truncate"]),
    first=st.integers(0, 2**32),
    second=st.integers(0, 2**32),
    junk=st.binary(min_size=1, max_size=8),
)
def test_a_damaged_file_replays_or_fails_with_a_cassette_error(
    tmp_path: Path,
    recordings: dict[str, Path],
    backend: str,
    how: str,
    first: int,
    second: int,
    junk: bytes,
) -> None:
    content = recordings[backend].read_bytes()
    lines = content.splitlines(keepends=True)
    at = first % len(content)
    if how == "byte":
        content = content[:at] + junk[:1] + content[at + 1 :]
    elif how == "bytes":
        content = content[:at] + junk + content[at + len(junk) :]
    elif how == "drop line":
        del lines[first % len(lines)]
        content = b"".join(lines)
    elif how == "swap lines":
        i, j = first % len(lines), second % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
        content = b"".join(lines)
    else:
        content = content[:at]
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(content)
    try:
        _replay(path)
    except CassetteError as exc:
        error = str(exc)
    else:
        return
    assert "line " in error
