"""The `jobs-emulator` command (`python -m jobs_emulator`): serves until interrupted."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpcore
import pytest

from jobs_emulator.__main__ import main


def test_the_command_serves_until_interrupted() -> None:
    command = [sys.executable, "-m", "jobs_emulator", "--token", "t1=alice", "--clock", "manual"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        assert "snowflake connect kwargs" in process.stdout.readline()
        base_url = match.group(1)
        with httpcore.ConnectionPool() as pool:
            refused = pool.request("GET", f"{base_url}/v1alpha1/jobs")
            allowed = pool.request(
                "GET", f"{base_url}/v1alpha1/jobs", headers={"Authorization": "Bearer t1"}
            )
            clock = pool.request("GET", f"{base_url}/_emulator/clock")
        assert (refused.status, allowed.status) == (401, 200)
        assert b'"manual": true' in clock.content
        # SIGTERM rather than SIGINT: a background job of a shell inherits SIGINT ignored.
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out


def test_bad_token_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--token", "no-user"])
    assert exit_info.value.code == 2
    assert "TOKEN=USER" in capsys.readouterr().err
