"""The installed `jobs` script in a subprocess: streams, pipes and Ctrl-C as a shell sees them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import jobs_emulator
from jobs_core import ReasonerTypeName
from jobs_transports import connect_sync
from jobs_transports.cli._arguments import ENVIRONMENT


def start(emu: jobs_emulator.Emulator, *args: str, program: str = "jobs") -> subprocess.Popen[str]:
    """Start the installed script `program` (one of the names the command is installed under)."""
    environment = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT.values()}
    environment["JOBS_BASE_URL"] = emu.base_url
    return subprocess.Popen(
        [str(Path(sys.executable).with_name(program)), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def state_of(emu: jobs_emulator.Emulator, kind: ReasonerTypeName, job_id: str) -> str:
    with connect_sync(base_url=emu.base_url) as client:
        job = client.get(kind, job_id)
    assert job is not None
    return job.state


def test_create_wait_in_a_pipe_prints_the_job_on_stdout_and_plain_state_lines_on_stderr(
    module_real_emu: jobs_emulator.Emulator,
) -> None:
    payload = json.dumps({"emulate": {"duration_s": 0.4, "outcome": "FAILED"}})
    process = start(module_real_emu, "create", "Predictive", "w", payload, "--wait", "--json")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 3
    job = json.loads(out)  # stdout holds the job and nothing else
    assert job["state"] == "FAILED"
    lines = err.splitlines()
    assert lines[0] == f"jobs: created Predictive job {job['id']}"
    states = [line.rsplit(": ", 1)[1] for line in lines[1:-1]]
    assert states[-1] == "FAILED"
    assert len(states) == len(set(states))  # one line per state change, not per poll
    assert "\r" not in err
    assert lines[-1] == f"jobs: Predictive job {job['id']} ended FAILED"


def test_a_closed_pipe_ends_quietly(module_real_emu: jobs_emulator.Emulator) -> None:
    process = start(module_real_emu, "list")
    assert process.stdout is not None
    process.stdout.close()  # as `head -1` does once it has its line
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141
    assert err == ""


# Shells run a `jobs` builtin in place of the `jobs` script: the command says how to go on under
# the name it was run as, and `jobs-client` is the one a shell reaches.
@pytest.mark.parametrize(
    ("command", "program"), [("wait", "jobs"), ("create --wait", "jobs-client")]
)
def test_ctrl_c_says_the_job_is_still_running(
    module_real_emu: jobs_emulator.Emulator, command: str, program: str
) -> None:
    payload = {"emulate": {"duration_s": 60}}
    if command == "wait":
        with connect_sync(base_url=module_real_emu.base_url) as client:
            job_id = client.create("Prescriptive", "w", payload).id
        process = start(
            module_real_emu, "wait", "Prescriptive", job_id, "--timeout", "30", program=program
        )
    else:
        args = ("create", "Prescriptive", "w", json.dumps(payload), "--wait", "--timeout", "30")
        process = start(module_real_emu, *args, program=program)
    assert process.stderr is not None
    first = process.stderr.readline()
    if command != "wait":
        job_id = first.split()[-1]  # the id comes before the wait
        first = process.stderr.readline()
    assert first.startswith(f"Prescriptive {job_id}: ")  # waiting now
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == ""
    assert f"{program}: interrupted; Prescriptive job {job_id} is still running." in err
    assert f"follow it: {program} wait Prescriptive {job_id}\n" in err
    assert f"cancel it: {program} cancel Prescriptive {job_id}\n" in err
    assert "Traceback" not in err
    assert state_of(module_real_emu, "Prescriptive", job_id) in ("CREATED", "PENDING", "RUNNING")


def test_the_help_names_the_program_as_it_was_run(module_real_emu: jobs_emulator.Emulator) -> None:
    process = start(module_real_emu, "--help", program="jobs-client")
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert out.startswith("usage: jobs-client ")
    assert "(see `jobs-client config`)" in out
    assert "jobs " not in out.replace("jobs-client ", "")


def test_importing_the_library_does_not_load_the_command_line() -> None:
    code = "import sys, jobs_transports; print('jobs_transports.cli' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert loaded.stdout.strip() == "False", loaded.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_under_stdout_exits_1_with_one_line(
    module_real_emu: jobs_emulator.Emulator,
) -> None:
    with open("/dev/full", "w") as full:
        process = subprocess.run(
            [str(Path(sys.executable).with_name("jobs")), "list", "--base-url",
             module_real_emu.base_url],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert process.returncode == 1
    assert process.stderr == "jobs: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("command", ["wait", "events"])
def test_sigterm_exits_143_saying_the_job_is_still_running(
    module_real_emu: jobs_emulator.Emulator, command: str
) -> None:
    # SIGTERM is how CI cancels a step and how `kill` and `docker stop` end a process.
    with connect_sync(base_url=module_real_emu.base_url) as client:
        payload = {"emulate": {"duration_s": 60, "events": 120}}  # an event every 0.5 s
        job_id = client.create("Prescriptive", "w", payload).id
    follow = ("--follow", "--json") if command == "events" else ("--timeout", "30")
    process = start(module_real_emu, command, "Prescriptive", job_id, *follow)
    assert process.stderr is not None
    assert process.stdout is not None
    if command == "wait":
        assert process.stderr.readline().startswith(f"Prescriptive {job_id}: ")  # waiting now
    else:
        assert "event" in json.loads(process.stdout.readline())  # following now
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143
    assert f"jobs: terminated; Prescriptive job {job_id} is still running." in err
    assert "Traceback" not in err
    assert state_of(module_real_emu, "Prescriptive", job_id) in ("CREATED", "PENDING", "RUNNING")


def test_a_reader_of_stderr_going_away_leaves_the_exit_status(
    module_real_emu: jobs_emulator.Emulator,
) -> None:
    # `jobs-client get ... 2>&1 | true`: the message cannot be shown, the status still tells.
    process = start(module_real_emu, "get", "Logic", "no-such-id")
    assert process.stderr is not None
    process.stderr.close()
    process.communicate(timeout=60)
    assert process.returncode == 6
