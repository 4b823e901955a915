"""The `jobs_cassette` record modes, run on a test file of its own with pytester."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TEST_FILE = """
import os
import pytest
import jobs_emulator

CALLS = int(os.environ.get("CALLS", "2"))
SECOND_CALLS = int(os.environ.get("SECOND_CALLS", "1"))


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
    for _ in range(SECOND_CALLS):
        assert second.list("Logic", limit=1) == []
    doing = "RECORDING" if jobs_cassette.recording else "REPLAYING"
    print("MODE", jobs_cassette.record_mode, doing)
"""
RUN = ("-s", "-p", "no:cacheprovider")


@pytest.fixture
def cassettes(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_flow=TEST_FILE)
    return pytester.path / "cassettes" / "test_flow"


def test_once_records_when_missing_and_replays_otherwise(
    pytester: pytest.Pytester, cassettes: Path
) -> None:
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE once RECORDING*"])
    assert sorted(p.name for p in cassettes.iterdir()) == [
        "test_two_clients-2.jsonl",
        "test_two_clients.jsonl",
    ]
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE once REPLAYING*"])


def test_none_replays_only_and_is_the_default_on_ci(
    pytester: pytest.Pytester, cassettes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*no cassette at *test_two_clients.jsonl (record mode none); record it with "
         "--jobs-record-mode=once*"]
    )  # fmt: skip
    assert not cassettes.exists()

    pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=once").assert_outcomes(passed=1)
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE none REPLAYING*"])


def test_all_records_again_and_the_ini_option_and_marker_choose_too(
    pytester: pytest.Pytester, cassettes: Path
) -> None:
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    first = (cassettes / "test_two_clients.jsonl").read_text()

    result = pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=all")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE all RECORDING*"])
    assert (cassettes / "test_two_clients.jsonl").read_text() != first  # a new seed, at least

    pytester.makeini("[pytest]\njobs_record_mode = all\n")
    result = pytester.runpytest_inprocess(*RUN)
    result.stdout.fnmatch_lines(["*MODE all RECORDING*"])

    pytester.makepyfile(
        test_flow=TEST_FILE.replace(
            "def test_two_clients",
            "@pytest.mark.jobs_cassette(record_mode='once')\ndef test_two_clients",
        )
    )
    result = pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=all")
    result.stdout.fnmatch_lines(["*MODE once REPLAYING*"])  # the marker has the last word

    result = pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_fewer_or_more_calls_than_recorded_fail_the_test_once(
    pytester: pytest.Pytester, cassettes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)

    monkeypatch.setenv("CALLS", "1")
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(failed=1)  # a failure of the test, not an error at teardown
    result.stdout.fnmatch_lines(
        [f"*{cassettes / 'test_two_clients.jsonl'}: 1 recorded interaction(s) were never replayed*"]
    )
    # The failure came with "During handling of the above exception, another exception occurred"
    # and the same message twice.
    result.stdout.no_fnmatch_line("*During handling*")

    # The second client's cassette was named as the first's.
    monkeypatch.setenv("CALLS", "2")
    monkeypatch.setenv("SECOND_CALLS", "0")
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{cassettes / 'test_two_clients-2.jsonl'}: 1 recorded*"])
    monkeypatch.delenv("SECOND_CALLS")

    monkeypatch.setenv("CALLS", "3")
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*emitted an effect the cassette does not have*"])
    result.stdout.no_fnmatch_line("*never replayed*")


def test_an_unknown_record_mode_in_the_ini_file_stops_the_run_at_once(
    pytester: pytest.Pytester, cassettes: Path
) -> None:
    pytester.makeini("[pytest]\njobs_record_mode = sometimes\n")
    result = pytester.runpytest_inprocess(*RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*jobs_record_mode 'sometimes' is not a record mode: none, once or all*"]
    )


def test_an_unknown_record_mode_in_a_marker_fails_its_test_in_one_line(
    pytester: pytest.Pytester, cassettes: Path
) -> None:
    marked = "@pytest.mark.jobs_cassette(record_mode='sometimes')\ndef test_two_clients"
    pytester.makepyfile(test_flow=TEST_FILE.replace("def test_two_clients", marked))
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*record_mode= of the jobs_cassette marker 'sometimes' is not a record mode: none, once "
         "or all*"]
    )  # fmt: skip
    result.stdout.no_fnmatch_line("*raise *")
