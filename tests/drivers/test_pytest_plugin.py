"""The `jobs_cassette` pytest plugin, run on a test file of its own with pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST_FILE = """
import os
import pytest
import jobs_emulator

CALLS = int(os.environ.get("CALLS", "2"))


@pytest.fixture
def backend(jobs_cassette):
    if not jobs_cassette.recording:
        yield {}
        return
    with jobs_emulator.serve() as emu:
        yield {"base_url": emu.base_url}


def test_two_clients(jobs_cassette, backend):
    with jobs_cassette.connect_sync(**backend) as first:
        for _ in range(CALLS):
            assert first.get("Logic", "missing") is None
    second = jobs_cassette.connect_sync(**backend)  # left open: the fixture closes its cassette
    assert second.list("Logic", limit=1) == []
    print("RECORDING" if jobs_cassette.recording else "REPLAYING")
"""


def test_records_when_missing_replays_otherwise_and_rerecords_on_request(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_flow=TEST_FILE)
    cassettes = pytester.path / "cassettes" / "test_flow"

    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RECORDING*"])
    assert sorted(p.name for p in cassettes.iterdir()) == [
        "test_two_clients-2.jsonl",
        "test_two_clients.jsonl",
    ]

    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*REPLAYING*"])

    monkeypatch.setenv("CALLS", "1")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 recorded interaction(s) were never replayed*"])

    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider", "--jobs-record")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RECORDING*"])
    monkeypatch.setenv("CALLS", "3")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*emitted an effect the cassette does not have*"])
