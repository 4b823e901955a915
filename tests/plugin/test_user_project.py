"""A user's project outside this repository uses the installed plugin: emulator and cassettes.

The project lives in a temporary directory and runs in a fresh pytest process with this
environment's Python, where the package is installed (`pip install -e .`): the plugin is found
through its entry point, as in any project that installs the package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = {
    "pytest.ini": "[pytest]\nfilterwarnings = error\n",
    "forecasts.py": """
def run_forecast(client, days):
    op = client.create("Predictive", "forecaster", {"days": days, "emulate": {"duration_s": 0.2}})
    return op.wait(timeout_s=30, poll_interval_s=0.05)
""",
    "test_forecasts.py": """
import pytest
from jobs_transports import connect_sync
from forecasts import run_forecast


@pytest.fixture
def backend(jobs_cassette, request):
    if not jobs_cassette.recording:
        return {}
    return {"base_url": request.getfixturevalue("jobs_emulator").base_url}


def test_forecast_replays(jobs_cassette, backend):
    with jobs_cassette.connect_sync(**backend) as client:
        assert run_forecast(client, days=7).state == "COMPLETED"


def test_against_the_emulator(jobs_emulator):
    with connect_sync(base_url=jobs_emulator.base_url) as client:
        assert run_forecast(client, days=1).duration == 200
""",
}


def run_pytest(project: Path, *args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JOBS_", "PYTEST_"))}
    environment.pop("CI", None)
    environment.pop("PYTHONPATH", None)
    if ci:
        environment["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_project_outside_the_repository_records_then_replays_with_no_server(
    tmp_path: Path,
) -> None:
    project = tmp_path / "user_project"
    project.mkdir()
    for name, text in PROJECT.items():
        (project / name).write_text(text)

    recorded = run_pytest(project, "--jobs-record-mode=once", ci=False)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "2 passed" in recorded.stdout
    cassette = project / "cassettes" / "test_forecasts" / "test_forecast_replays.jsonl"
    assert cassette.exists()

    # The recording process and its emulator are gone; CI's default mode, none, only replays.
    replayed = run_pytest(project, "-k", "replays", ci=True)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "1 passed" in replayed.stdout
