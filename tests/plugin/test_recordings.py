"""Which recordings the plugin keeps, what replay is given, how a mismatch is reported."""

from __future__ import annotations

import socket

import pytest

pytest_plugins = ["pytester"]

RUN = ("-p", "no:cacheprovider")

BACKEND = """
import pytest
import jobs_emulator

@pytest.fixture
def backend(jobs_cassette):
    if not jobs_cassette.recording:
        yield {}
        return
    with jobs_emulator.serve() as emu:
        yield {"base_url": emu.base_url}
"""

FAILING_TEST = """
import os
import jobs_emulator

def test_records_then_fails(jobs_cassette):
    with jobs_emulator.serve() as emu, jobs_cassette.connect_sync(base_url=emu.base_url) as c:
        c.list("Logic", limit=1)
    assert os.environ.get("FAIL") != "yes"
"""


def test_the_recording_of_a_failed_test_is_not_kept(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_fails=FAILING_TEST)
    cassette = pytester.path / "cassettes" / "test_fails" / "test_records_then_fails.jsonl"
    monkeypatch.setenv("FAIL", "yes")
    pytester.runpytest_inprocess(*RUN).assert_outcomes(failed=1)
    assert list(cassette.parent.iterdir()) == []

    monkeypatch.setenv("FAIL", "no")
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    kept = cassette.read_text()
    # A re-recording that fails leaves the cassette as it was.
    monkeypatch.setenv("FAIL", "yes")
    pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=all").assert_outcomes(failed=1)
    assert cassette.read_text() == kept
    assert [p.name for p in cassette.parent.iterdir()] == [cassette.name]


def test_a_recording_of_transport_failures_only_is_not_kept(pytester: pytest.Pytester) -> None:
    with socket.socket() as unused:  # a port where nothing listens once this closes
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    pytester.makepyfile(
        test_down=f"""
        import pytest
        from jobs_core import JobServerError, RetryPolicy

        def test_server_down(jobs_cassette):
            client = jobs_cassette.connect_sync(
                base_url="http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=1)
            )
            with client, pytest.raises(JobServerError):
                client.list("Logic")
        """
    )
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    assert list((pytester.path / "cassettes" / "test_down").iterdir()) == []


def test_redact_and_other_options_apply_on_replay(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BACKEND)
    pytester.makepyfile(
        test_masked="""
        def mask(line):
            effect = line.get("effect", {})
            if effect.get("type") == "HttpRequest":
                target = effect["target"].replace("s3cret", "MASKED")
                line = {**line, "effect": {**effect, "target": target}}
            return line

        def test_masked(jobs_cassette, backend):
            with jobs_cassette.connect_sync(redact=mask, **backend) as client:
                assert client.get("Predictive", "s3cret") is None
        """
    )
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_masked" / "test_masked.jsonl"
    recorded = cassette.read_text()
    assert "/v1alpha1/jobs/ML/s3cret" not in recorded
    assert "/v1alpha1/jobs/ML/MASKED" in recorded
    pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=none").assert_outcomes(passed=1)


def test_a_mismatch_is_reported_once_with_its_diff(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_mismatch="""
        import os

        def test_get(jobs_cassette, backend):
            with jobs_cassette.connect_sync(**backend) as client:
                client.get("Predictive", os.environ["JOB"])
                client.get("Predictive", "second")
        """
    )
    pytester.makeconftest(BACKEND)
    monkeypatch.setenv("JOB", "first")
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    monkeypatch.setenv("JOB", "other")
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(failed=1, errors=0)
    result.stdout.fnmatch_lines(["*does not match the cassette at line 2*", "*+++ this run*"])
    result.stdout.fnmatch_lines(['*-*"target": "/v1alpha1/jobs/ML/first"*'])
    result.stdout.no_fnmatch_line("*never replayed*")


def test_the_emulator_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_emulators="""
        from jobs_transports import connect_sync

        def test_real_time(jobs_emulator):
            with connect_sync(base_url=jobs_emulator.base_url) as client:
                job = client.create_ready("Predictive", "w", {"emulate": {"duration_s": 0.1}})
            assert job.state == "COMPLETED"

        def test_manual_clock(jobs_emulator_manual):
            emu = jobs_emulator_manual
            with connect_sync(base_url=emu.base_url) as client:
                op = client.create("Predictive", "w", {"emulate": {"duration_s": 3600}})
                assert not op.is_done()
                emu.engine.advance(3600)
                assert op.wait(timeout_s=5).state == "COMPLETED"
        """
    )
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=2)


def test_a_client_the_test_left_open_is_closed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BACKEND)
    pytester.makepyfile(
        test_open="""
        import gc

        def test_leaves_a_client_open(jobs_cassette, backend):
            client = jobs_cassette.connect_sync(**backend)
            client.list("Logic", limit=1)

        def test_nothing_leaked():
            gc.collect()
        """
    )
    pytester.runpytest_inprocess(*RUN, "-W", "error").assert_outcomes(passed=2)


def test_a_connect_that_raised_leaves_nothing_to_keep(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BACKEND)
    pytester.makepyfile(
        test_bad="""
        import pytest
        from jobs_core import JobConfigurationError

        def test_bad_then_good(jobs_cassette, backend):
            if jobs_cassette.recording:  # a replay does not use base_url
                with pytest.raises(JobConfigurationError):
                    jobs_cassette.connect_sync(base_url="ftp://nowhere")
            with jobs_cassette.connect_sync(**backend) as client:
                assert client.list("Logic", limit=1) == []
        """
    )
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    cassettes = pytester.path / "cassettes" / "test_bad"
    assert [p.name for p in cassettes.iterdir()] == ["test_bad_then_good.jsonl"]
    pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=none").assert_outcomes(passed=1)


def test_each_test_has_a_cassette_of_its_own_whatever_its_class_or_id_length(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(BACKEND)
    pytester.makepyfile(
        test_names="""
        import pytest

        class TestA:
            def test_x(self, jobs_cassette, backend):
                with jobs_cassette.connect_sync(**backend) as client:
                    assert client.get("Logic", "a") is None

        class TestB:
            class TestInner:
                def test_x(self, jobs_cassette, backend):
                    with jobs_cassette.connect_sync(**backend) as client:
                        assert client.list("Logic", limit=1) == []

        @pytest.mark.parametrize("n", [1, 2], ids=["x" * 300, "x" * 299 + "y"])
        def test_x(jobs_cassette, backend, n):
            with jobs_cassette.connect_sync(**backend) as client:
                assert client.get("Logic", str(n)) is None
        """
    )
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=4)
    names = sorted(p.name for p in (pytester.path / "cassettes" / "test_names").iterdir())
    assert names[:2] == ["TestA.test_x.jsonl", "TestB.TestInner.test_x.jsonl"]
    assert len(names) == 4
    assert all(len(name.encode()) <= 200 for name in names)
    pytester.runpytest_inprocess(*RUN, "--jobs-record-mode=none").assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("garbage\n", "line 3: not valid JSON"),
        ("", "the cassette is empty"),
        (None, "cannot read the cassette"),
    ],
)
def test_a_damaged_cassette_fails_the_test_saying_how_to_record_it_again(
    pytester: pytest.Pytester, damage: str | None, said: str
) -> None:
    pytester.makeconftest(BACKEND)
    pytester.makepyfile(
        test_damaged="""
        def test_get(jobs_cassette, backend):
            with jobs_cassette.connect_sync(**backend) as client:
                assert client.get("Logic", "a") is None
        """
    )
    pytester.runpytest_inprocess(*RUN).assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_damaged" / "test_get.jsonl"
    if damage is None:
        cassette.unlink()
        cassette.mkdir()  # there, but not a file that can be read
    elif damage:
        cassette.write_text(cassette.read_text() + damage)
    else:
        cassette.write_text("")
    result = pytester.runpytest_inprocess(*RUN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [f"*{cassette}*{said}*; record it again with --jobs-record-mode=all"]
    )
    result.stdout.no_fnmatch_line("*During handling*")  # the CassetteError, then the failure
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*_cassette.py*")
