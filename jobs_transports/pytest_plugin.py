"""A pytest plugin: test code that uses the jobs client against cassettes, with no server.

Installed with the package (entry point ``pytest11``). In a test, the `jobs_cassette` fixture
records the test's client calls when its cassette is missing (or when pytest runs with
``--jobs-record``), and replays them otherwise::

    def test_forecast(jobs_cassette):
        with jobs_cassette.connect_sync(base_url=LIVE_URL, token=TOKEN) as client:
            assert run_my_forecast(client).state == "COMPLETED"

The cassette is ``cassettes/<test module>/<test name>.jsonl`` beside the test file, or the path
given by ``@pytest.mark.jobs_cassette("name.jsonl")`` (relative to the test file); a test's second
client gets ``<name>-2.jsonl``, and so on. When replaying, the backend arguments are not used, and
the test fails if it made fewer calls than recorded. Cassette files of recording clients the test
left open are closed when it ends.
`jobs_cassette.recording` says which mode the test runs in, so it can start a live backend only
when one is needed. `connect(...)` gives the async client, for asyncio and trio tests alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs_core import CassetteError, Replayer

from ._cassettes import RecordingAsync, RecordingSync, read_cassette
from ._client_async import JobsClient
from ._client_sync import JobsClientSync
from ._connect import connect, connect_sync


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--jobs-record",
        action="store_true",
        default=False,
        help="record jobs-client cassettes again, even those that exist",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "jobs_cassette(path): the cassette file of this test, relative to the test file"
    )


class JobsCassette:
    """The cassette of one test: `connect_sync(...)` / `connect(...)` record or replay it."""

    def __init__(self, path: Path, recording: bool) -> None:
        self.path = path
        self.recording = recording
        self._gateways: list[object] = []
        self._replayers: list[Replayer] = []

    def connect_sync(self, **backend: Any) -> JobsClientSync:
        """Return a client that records to the cassette, or replays it (see `connect_sync`)."""
        path = self._next_path()
        if self.recording:
            client = connect_sync(record=path, **backend)
            self._gateways.append(client._driver)
            return client
        return connect_sync(replay=self._replayer(path))

    def connect(self, **backend: Any) -> JobsClient:
        """Return an async client that records to the cassette, or replays it (see `connect`)."""
        path = self._next_path()
        if self.recording:
            client = connect(record=path, **backend)
            self._gateways.append(client._driver)
            return client
        return connect(replay=self._replayer(path))

    def _replayer(self, path: Path) -> Replayer:
        replayer = Replayer(read_cassette(path))
        self._replayers.append(replayer)
        return replayer

    def _next_path(self) -> Path:
        count = len(self._gateways) + len(self._replayers) + 1
        path = self.path if count == 1 else self.path.with_stem(f"{self.path.stem}-{count}")
        if self.recording:
            path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def check(self) -> None:
        """Close the cassettes still recording; fail the test if a replay left calls unplayed."""
        for gateway in self._gateways:
            if isinstance(gateway, RecordingSync | RecordingAsync):
                gateway.writer.close()
        for replayer in self._replayers:
            try:
                replayer.finish()
            except CassetteError as exc:
                pytest.fail(f"{self.path}: {exc}", pytrace=False)


def _default_path(request: pytest.FixtureRequest) -> Path:
    test_file = Path(request.node.path)
    marker = request.node.get_closest_marker("jobs_cassette")
    if marker is not None and marker.args:
        return test_file.parent / str(marker.args[0])
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    return test_file.parent / "cassettes" / test_file.stem / f"{name}.jsonl"


@pytest.fixture
def jobs_cassette(request: pytest.FixtureRequest) -> Iterator[JobsCassette]:
    """The test's cassette: recorded when missing or with --jobs-record, replayed otherwise."""
    path = _default_path(request)
    recording = bool(request.config.getoption("--jobs-record")) or not path.exists()
    cassette = JobsCassette(path, recording)
    yield cassette
    cassette.check()
