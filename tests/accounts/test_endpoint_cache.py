"""The on-disk endpoint cache: per account and application, tolerant of what it did not write,
and an entry the client cannot use or reach replaced by a discovery."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

import jobs_emulator
from jobs_transports import connect, connect_sync
from jobs_transports._endpoint_cache import LOCK_WAIT_S, EndpointCache, default_path
from tests.accounts.accounts_setup import APP, PAT, write_yaml


def endpoint(cache: EndpointCache, account: str, app: str) -> str:
    cached = cache.get(account, app)
    assert cached is not None
    return cached.endpoint


def test_entries_per_account_and_application(tmp_path: Path) -> None:
    cache = EndpointCache(tmp_path / "rai" / "endpoints.json")
    assert cache.get("acc", "APP") is None
    cache.put("acc", "APP", "https://one")
    cache.put("acc", "OTHER", "https://two")
    cache.put("other", "APP", "https://three")
    cache.put("acc", "APP", "https://four")
    assert endpoint(cache, "acc", "APP") == "https://four"
    assert endpoint(cache, "acc", "OTHER") == "https://two"
    assert endpoint(cache, "other", "APP") == "https://three"
    data = json.loads(cache.path.read_text())
    assert data["acc"]["APP"]["cached_at"] > 1.7e9
    assert_only_the_cache_and_its_lock(cache)


def assert_only_the_cache_and_its_lock(cache: EndpointCache) -> None:
    """No temporary file is left beside the cache; its lock file is empty, its owner's only."""
    assert sorted(cache.path.parent.iterdir()) == [cache.path, cache.lock_path]
    assert cache.lock_path.read_bytes() == b""
    assert stat.S_IMODE(cache.lock_path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"acc": []}',
        '{"acc": {"APP": "https://x"}}',
        '{"acc": {"APP": {"endpoint": 3, "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "ftp://x", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://[::1", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://h\u00e9.example", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://a b", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://127.0.0.1:99999", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "https://x/?q=1", "cached_at": 1}}}',
    ],
)
def test_what_it_did_not_write_is_a_miss_and_is_replaced(tmp_path: Path, text: str) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.path.write_text(text)
    assert cache.get("acc", "APP") is None
    cache.put("acc", "APP", "https://new")
    assert endpoint(cache, "acc", "APP") == "https://new"


def test_an_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = EndpointCache(blocker / "endpoints.json")  # its folder cannot be created
    cache.put("acc", "APP", "https://x")
    assert cache.get("acc", "APP") is None


def test_the_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_path({}) == tmp_path / ".rai" / "endpoints.json"
    assert default_path({"RAI_ENDPOINT_FILE": "/x/e.json"}) == Path("/x/e.json")
    assert default_path({"RAI_ENDPOINT_FILE": "~/e.json"}) == tmp_path / "e.json"


def test_a_cache_that_cannot_be_replaced_leaves_no_temporary_file(tmp_path: Path) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.path.mkdir()  # a folder where the file should be: os.replace fails
    for _ in range(3):
        cache.put("acc", "APP", "https://x")
    assert_only_the_cache_and_its_lock(cache)


WRITER = """
import sys
import threading
from pathlib import Path
from jobs_transports._endpoint_cache import EndpointCache

path, account, count, entries = sys.argv[1:]

def write(thread):
    cache = EndpointCache(Path(path))  # as each client of a process has its own
    for n in range(int(entries)):
        cache.put(account, f"APP{thread}.{n}", f"https://{account}-{thread}-{n}.example")

threads = [threading.Thread(target=write, args=(thread,)) for thread in range(int(count))]
sys.stdin.readline()  # every writer starts at once
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""

HOLDER = """
import sys
from filelock import FileLock

with FileLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()  # held until the test says, or ends
"""

WRITERS = 4
THREADS = 2
ENTRIES = 12


def test_writers_in_many_processes_keep_every_entry_and_readers_never_see_half_a_file(
    tmp_path: Path,
) -> None:
    """Each writer reads the file, adds its entry and writes it back: without a lock across
    processes (and threads), two at once each write their own view and one's entry is lost."""
    cache = EndpointCache(tmp_path / "rai" / "endpoints.json")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(cache.path), f"acc{i}", str(THREADS), str(ENTRIES)],
            stdin=subprocess.PIPE,
        )
        for i in range(WRITERS)
    ]
    try:
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write(b"go\n")
            writer.stdin.close()
        reads = 0
        deadline = time.monotonic() + 60
        while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
            try:
                text = cache.path.read_text()
            except FileNotFoundError:
                continue
            assert isinstance(json.loads(text), dict)  # a whole file, never half of one
            reads += 1
    finally:
        for writer in writers:
            writer.wait(timeout=60)
    assert [w.returncode for w in writers] == [0] * WRITERS
    assert reads > 0
    for i in range(WRITERS):
        for thread in range(THREADS):
            for n in range(ENTRIES):
                expected = f"https://acc{i}-{thread}-{n}.example"
                assert endpoint(cache, f"acc{i}", f"APP{thread}.{n}") == expected
    assert_only_the_cache_and_its_lock(cache)


@contextlib.contextmanager
def lock_held(path: Path) -> Iterator[None]:
    """Another process holds the lock on `path` (as one that hangs would) in the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == b"held\n"
        yield
    finally:
        holder.stdin.close()
        holder.stdout.close()
        holder.wait(timeout=60)


def test_a_held_lock_stops_a_writer_only_for_the_bound(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.put("acc", "APP", "https://before")
    with lock_held(cache.lock_path):
        started = time.monotonic()
        cache.put("acc", "APP", "https://after")
        waited = time.monotonic() - started
    assert LOCK_WAIT_S <= waited < LOCK_WAIT_S + 30  # the bound, not a hang
    assert endpoint(cache, "acc", "APP") == "https://before"  # not written, still read
    assert f"held {cache.lock_path} for more than {LOCK_WAIT_S} s" in caplog.text
    cache.put("acc", "APP", "https://after")  # once the lock is free again
    assert endpoint(cache, "acc", "APP") == "https://after"


def test_a_lock_that_cannot_be_taken_is_not_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "jobs_transports.accounts")
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.lock_path.mkdir()  # as a file this process may not open
    cache.put("acc", "APP", "https://x")
    assert cache.get("acc", "APP") is None
    assert not cache.path.exists()
    assert "not written" in caplog.text


def test_a_file_system_without_locks_leaves_the_cache_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """filelock then raises (3.x) or warns that it falls back to a lock of its own (4.x): an
    error here, as warnings are in this suite (and may be in a user's)."""
    caplog.set_level(logging.DEBUG, "jobs_transports.accounts")

    def no_flock(descriptor: int, operation: int) -> None:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    monkeypatch.setattr(fcntl, "flock", no_flock)
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.put("acc", "APP", "https://x")
    assert cache.get("acc", "APP") is None
    assert "not written" in caplog.text


def test_a_lock_file_left_behind_is_used_again(tmp_path: Path) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.lock_path.write_text("left by a process that ended")
    cache.put("acc", "APP", "https://x")
    assert endpoint(cache, "acc", "APP") == "https://x"


@pytest.fixture(scope="module")
def emu() -> Iterator[jobs_emulator.Emulator]:
    with jobs_emulator.serve(app=APP, users={"PATTY": {"pat": PAT}}) as emulator:
        yield emulator


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
@pytest.mark.parametrize(
    "cached",
    [
        "http://[::1",  # not a URL
        "http://h\u00e9.example",  # a host not in its xn-- form
        "http://127.0.0.1:1",  # nobody listens there
    ],
)
def test_an_unusable_or_unreachable_cached_endpoint_is_discovered_again(
    home: Path, emu: jobs_emulator.Emulator, cached: str, library: str
) -> None:
    write_yaml(home, emu, {"authenticator": "programmatic_access_token", "token": PAT}, "PATTY")
    account = emu.snowflake["account"]
    cache = EndpointCache(home / ".rai" / "endpoints.json")
    cache.path.write_text(json.dumps({account: {APP: {"endpoint": cached, "cached_at": 1}}}))
    lookups = emu.service_endpoint_calls
    if library == "sync":
        with connect_sync() as client:
            assert client.list("Logic") is not None
    else:

        async def main() -> None:
            async with connect() as client:
                assert await client.list("Logic") is not None

        asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert emu.service_endpoint_calls == lookups + 1
    assert endpoint(cache, account, APP) == emu.base_url


def test_a_client_works_while_another_process_holds_the_cache_lock(
    home: Path, emu: jobs_emulator.Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    write_yaml(home, emu, {"authenticator": "programmatic_access_token", "token": PAT}, "PATTY")
    cache = EndpointCache(home / ".rai" / "endpoints.json")  # its folder is the yaml's
    lookups = emu.service_endpoint_calls
    with lock_held(cache.lock_path), connect_sync() as client:
        assert client.list("Logic") is not None
    assert emu.service_endpoint_calls == lookups + 1  # discovered, then not cached
    assert cache.get(emu.snowflake["account"], APP) is None
    assert "not written" in caplog.text
