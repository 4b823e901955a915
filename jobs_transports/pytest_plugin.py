"""A pytest plugin: test code that uses the jobs client against cassettes, with no server.

Installed with the package (entry point ``pytest11``). In a test, the `jobs_cassette` fixture
records the test's client calls or replays them, as the record mode says::

    def test_forecast(jobs_cassette):
        with jobs_cassette.connect_sync(base_url=LIVE_URL, token=TOKEN) as client:
            assert run_my_forecast(client).state == "COMPLETED"

Record modes, as in vcrpy and pytest-recording:

- ``none``: replay only; a missing cassette fails the test.
- ``once``: record when the test's cassette is missing, replay it otherwise.
- ``all``: record again, replacing the cassette.

The mode is the marker's ``record_mode=``, else ``--jobs-record-mode``, else the ini option
``jobs_record_mode``, else ``none`` when the ``CI`` environment variable is set and ``once``
otherwise. A recording is kept only when the test passed and recorded at least one reply (one
holding only transport failures, as when the server was down, would replay the outage); until
then it is written beside the cassette, so a failed re-recording leaves the old one in place.

The cassette is ``cassettes/<test module>/<test name>.jsonl`` beside the test file (a method's as
``<class>.<test name>.jsonl``; a name past 180 bytes is cut and ends with a hash of the whole), or
the path given by ``@pytest.mark.jobs_cassette("name.jsonl")`` (relative to the test file); a test's
second client gets ``<name>-2.jsonl``, and so on. A cassette that cannot be read fails the test,
naming the line and saying how to record it again. Every argument given to `connect_sync(...)` /
`connect(...)` but the backend's is used on replay too (`redact=` in particular); the backend
arguments are not used. A replay that departs from the recording fails the test with the diff; one
that made fewer calls than recorded fails it too. Sync clients the test left open are closed when it
ends (an async one's cassette file is). `jobs_cassette.recording` says whether the test records, so
it can start a live backend only when one is needed.

The `jobs_emulator` fixture is a running emulator (`jobs_emulator.serve()`), and
`jobs_emulator_manual` one whose clock moves only when the test calls ``emu.engine.advance(s)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from jobs_core import CassetteError, Replayer

from ._cassettes import RecordingAsync, read_cassette
from ._client_async import JobsClient
from ._client_sync import JobsClientSync
from ._connect import connect, connect_sync

if TYPE_CHECKING:
    from jobs_emulator import Emulator

RECORD_MODES = ("none", "once", "all")
_PARTIAL = ".recording"
"""Suffix of a cassette being recorded; it loses it when the test passes."""
_NAME_BYTES = 180
"""The longest name (in UTF-8) of a cassette a test's name makes, before "-2", ".jsonl" and
`_PARTIAL` are added."""
_FAILED: pytest.StashKey[bool] = pytest.StashKey()
_CASSETTE: pytest.StashKey[JobsCassette] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = "jobs_cassette record mode: none (replay only), once (record when missing), all"
    parser.getgroup("jobs_cassette").addoption(
        "--jobs-record-mode", choices=RECORD_MODES, default=None, help=help_text
    )
    parser.addini("jobs_record_mode", help_text)


def pytest_configure(config: pytest.Config) -> None:
    # A bad ini value stops the run before any test, as a bad --jobs-record-mode does.
    mode = config.getini("jobs_record_mode")
    if mode and mode not in RECORD_MODES:
        raise pytest.UsageError(_not_a_mode("the ini option jobs_record_mode", mode))
    config.addinivalue_line(
        "markers",
        "jobs_cassette(path=None, *, record_mode=None): the cassette of this test (relative to "
        "the test file) and its record mode",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    # Only a test that passed is checked for calls it left unplayed: a test that failed (a
    # mismatch with its diff, say) is reported once, for that.
    result = yield
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is not None:
        cassette.check_replayed()
    return result


class JobsCassette:
    """The cassette of one test: `connect_sync(...)` / `connect(...)` record or replay it."""

    def __init__(self, path: Path, record_mode: str) -> None:
        self.path = path
        self.record_mode = record_mode
        self.recording = record_mode == "all" or (record_mode == "once" and not path.exists())
        self._clients: list[JobsClientSync | JobsClient] = []
        self._written: list[tuple[Path, Path]] = []
        self._replayers: list[tuple[Path, Replayer]] = []

    def connect_sync(self, **arguments: Any) -> JobsClientSync:
        """Return a client that records to the cassette, or replays it (see `connect_sync`)."""
        options, written = self._arguments(arguments)
        client = connect_sync(**options)
        self._opened(client, written)
        return client

    def connect(self, **arguments: Any) -> JobsClient:
        """Return an async client that records to the cassette, or replays it (see `connect`)."""
        options, written = self._arguments(arguments)
        client = connect(**options)
        self._opened(client, written)
        return client

    def _opened(
        self, client: JobsClientSync | JobsClient, written: tuple[Path, Path] | None
    ) -> None:
        # Registered only once connect returned: a connect that raised (inside `pytest.raises`,
        # say) wrote no partial cassette for `finish` to keep.
        self._clients.append(client)
        if written is not None:
            self._written.append(written)

    def _arguments(
        self, arguments: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[Path, Path] | None]:
        """Return connect's arguments, and the (partial, cassette) pair it records to if any."""
        count = len(self._clients) + 1
        path = self.path if count == 1 else self.path.with_stem(f"{self.path.stem}-{count}")
        if not self.recording:
            if not path.exists():
                mode = "once" if self.record_mode == "none" else "all"
                pytest.fail(
                    f"no cassette at {path} (record mode {self.record_mode}); record it with "
                    f"--jobs-record-mode={mode}",
                    pytrace=False,
                )
            try:
                cassette = read_cassette(path)
            except CassetteError as exc:
                damaged = str(exc)
            else:
                # The replayer is kept so that `check_replayed` can ask it what was left unplayed.
                options = dict(arguments)
                replayer = Replayer(cassette, redact=options.pop("redact", None))
                self._replayers.append((path, replayer))
                return {**options, "replay": replayer}, None
            # Failed outside the `except`: inside, the report adds "During handling of the above
            # exception" and says it twice.
            pytest.fail(f"{damaged}; record it again with --jobs-record-mode=all", pytrace=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + _PARTIAL)
        return {**arguments, "record": partial}, (partial, path)

    def check_replayed(self) -> None:
        """Fail the test if a replay left recorded calls unplayed."""
        for path, replayer in self._replayers:
            try:
                replayer.finish()
            except CassetteError as exc:
                unplayed = str(exc)
            else:
                continue
            pytest.fail(f"{path}: {unplayed}", pytrace=False)  # outside `except`, as above

    def finish(self, *, passed: bool) -> None:
        """Close what the test left open; keep the recordings only if `passed` and worth it."""
        for client in self._clients:
            if isinstance(client, JobsClientSync):
                client.close()  # closing twice is harmless
            elif isinstance(client.gateway, RecordingAsync):
                # An async client needs its loop to close its connections; its file does not.
                client.gateway.writer.close()
        for partial, path in self._written:
            if passed and _has_replies(partial):
                partial.replace(path)
            else:
                partial.unlink(missing_ok=True)


def _has_replies(path: Path) -> bool:
    """Return True if the cassette recorded a reply, or no interaction at all."""
    with path.open(encoding="utf-8") as file:
        lines = [json.loads(line) for line in file][1:]
    return not lines or any("failure" not in line for line in lines)


def _cassette_path(request: pytest.FixtureRequest) -> Path:
    test_file = Path(request.node.path)
    marker = request.node.get_closest_marker("jobs_cassette")
    if marker is not None and marker.args:
        return test_file.parent / str(marker.args[0])
    # A method's classes are part of its name: TestA::test_x and TestB::test_x are two tests.
    classes = [node.name for node in request.node.listchain() if isinstance(node, pytest.Class)]
    name = re.sub(r"[^\w.-]+", "_", ".".join([*classes, request.node.name]))
    if len(name.encode()) > _NAME_BYTES:
        # File systems refuse names past 255 bytes: a long one is cut, and told apart by a hash.
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        name = name.encode()[: _NAME_BYTES - 17].decode(errors="ignore") + "-" + digest
    return test_file.parent / "cassettes" / test_file.stem / f"{name}.jsonl"


def _not_a_mode(where: str, mode: object) -> str:
    return f"{where} {mode!r} is not a record mode: none, once or all"


def _record_mode(request: pytest.FixtureRequest) -> str:
    """Return the test's record mode (the option and the ini value are checked already)."""
    marker = request.node.get_closest_marker("jobs_cassette")
    marked = marker.kwargs.get("record_mode") if marker is not None else None
    if marked is not None and marked not in RECORD_MODES:
        pytest.fail(_not_a_mode("record_mode= of the jobs_cassette marker", marked), pytrace=False)
    chosen = (
        marked
        or request.config.getoption("--jobs-record-mode")
        or request.config.getini("jobs_record_mode")
        or ("none" if os.environ.get("CI") else "once")
    )
    return str(chosen)


@pytest.fixture
def jobs_cassette(request: pytest.FixtureRequest) -> Iterator[JobsCassette]:
    """The test's cassette, recorded or replayed as its record mode says."""
    cassette = JobsCassette(_cassette_path(request), _record_mode(request))
    request.node.stash[_CASSETTE] = cassette
    yield cassette
    cassette.finish(passed=not request.node.stash.get(_FAILED, False))


@pytest.fixture
def jobs_emulator() -> Iterator[Emulator]:
    """A running emulator of both APIs on loopback, on real time, stopped after the test."""
    from jobs_emulator import serve

    with serve() as emulator:
        yield emulator


@pytest.fixture
def jobs_emulator_manual() -> Iterator[Emulator]:
    """A running emulator whose clock moves only by ``emu.engine.advance(seconds)``."""
    from jobs_emulator import serve

    with serve(clock="manual") as emulator:
        yield emulator
