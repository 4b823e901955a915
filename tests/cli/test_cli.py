"""The `jobs` command line against the emulator: every command, table and JSON output, errors."""

from __future__ import annotations

import json

import pytest

import jobs_emulator
from jobs_transports.cli import main


def jobs(open_emulator: jobs_emulator.Emulator, *args: str) -> int:
    return main(["--base-url", open_emulator.base_url, *args])


def test_create_wait_get_list_cancel(
    open_emulator: jobs_emulator.Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    script = json.dumps({"emulate": {"duration_s": 0.2, "events": 2}})
    assert jobs(open_emulator, "--json", "create", "Predictive", "cli-w", script, "--wait") == 0
    created = json.loads(capsys.readouterr().out)
    assert created[0]["state"] == "COMPLETED"
    job_id = created[0]["id"]

    assert jobs(open_emulator, "get", "Predictive", job_id) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "id",
        "reasoner_type",
        "state",
        "name",
        "created_by",
        "created_on",
        "duration",
    ]
    assert table[1].startswith(job_id)

    assert jobs(open_emulator, "events", "Predictive", job_id) == 0
    assert [json.loads(line)["index"] for line in capsys.readouterr().out.splitlines()] == [1, 2]

    assert (
        jobs(open_emulator, "--json", "list", "Predictive", "--name", "cli-w", "--limit", "5") == 0
    )
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [job_id]

    slow = json.dumps({"emulate": {"duration_s": 30}})
    assert jobs(open_emulator, "--json", "create", "Prescriptive", "cli-s", slow) == 0
    slow_id = json.loads(capsys.readouterr().out)[0]["id"]
    assert (
        jobs(open_emulator, "wait", "Prescriptive", slow_id, "--timeout", "0.3", "--poll", "0.1")
        == 1
    )
    assert "did not finish within 0.3s" in capsys.readouterr().err
    assert jobs(open_emulator, "cancel", "Prescriptive", slow_id) == 0
    assert jobs(open_emulator, "--json", "get", "Prescriptive", slow_id) == 0
    assert json.loads(capsys.readouterr().out)[0]["state"] == "CANCELED"


def test_errors_exit_with_a_message(
    open_emulator: jobs_emulator.Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("JOBS_BASE_URL", "JOBS_TOKEN", "JOBS_SNOWFLAKE", "JOBS_APP"):
        monkeypatch.delenv(name, raising=False)
    assert jobs(open_emulator, "get", "Batch", "x") == 2
    assert "Expected: Logic, Prescriptive, or Predictive" in capsys.readouterr().err
    assert jobs(open_emulator, "get", "Logic", "no-such-id") == 1
    assert "not found" in capsys.readouterr().err
    assert jobs(open_emulator, "create", "Predictive", "w", "{not json") == 2
    assert main(["list"]) == 2  # no backend configured
    assert "Configure a Direct Access base URL" in capsys.readouterr().err
