"""Record real sessions against the emulator, then replay them with the emulator stopped.

The sessions are recorded on the emulator's manual clock (see `tests.virtual_time`): a recorded
`wait` polls through seconds of the emulator's time in a few milliseconds of real time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import jobs_emulator
from jobs_core import Cassette, CassetteError, Job, JobError, Replayer
from jobs_transports import connect_sync
from tests.drivers.conftest import DRIVERS, TOKENS, client_options, run_scenario
from tests.drivers.uniform import Uniform
from tests.virtual_time import VirtualTime

QUICK = {"timeout_s": 30, "poll_interval_s": 0.05}


def logic(**emulate: Any) -> dict[str, Any]:
    return {"database": "db", "query": "q", "headers": {"emulate": {"duration_s": 0.2, **emulate}}}


async def every_call(client: Uniform) -> list[Any]:
    """Every public call, successes and failures; returns what each gave, errors as (type, text)."""
    outcomes: list[Any] = []

    async def note(call: str, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await getattr(client, call)(*args, **kwargs)
        except JobError as exc:
            outcomes.append((type(exc).__name__, str(exc)))
            return None
        outcomes.append(result.id if isinstance(result, Uniform) else result)
        return result

    name = "replayed"  # every test records into a fresh emulator: no need for unique names
    op = await note("create", "Logic", name, logic(events=12, artifacts=["a.csv"]))
    await note("get_operation", "Logic", op.id)
    await note("wait", "Logic", op.id, include={"events": True, "artifacts": True}, **QUICK)
    await note("get", "Logic", op.id, include={"problems": True, "details": True, "raw": True})
    await note("get_events", "Logic", op.id)
    outcomes.append([e["index"] async for e in client.events("Logic", op.id)])
    await note("create_ready", "Predictive", name, {"emulate": {"duration_s": 0.2}}, **QUICK)
    slow = await note("create", "Prescriptive", name, {"emulate": {"duration_s": 30}})
    await note("wait", "Prescriptive", slow.id, timeout_s=0.2, poll_interval_s=0.05)
    await note("cancel", "Prescriptive", slow.id)
    await note("list", name=name, include={"details": True})
    await note("get", "Predictive", "no-such-job")
    await note("create", "Predictive", name, {"emulate": {"not_ready": True}})
    await note("cancel", "Predictive", slow.id, all_users=True)
    many = [("Logic", op.id), ("Prescriptive", slow.id)]
    await note("wait_all", many, **QUICK)
    outcomes.append([job.id async for job in client.completed(many, **QUICK)])
    return outcomes


@pytest.mark.parametrize("recorded_by", DRIVERS)
@pytest.mark.parametrize("backend", ["http", "sql", "hybrid"])
def test_replay_gives_the_same_results_and_errors_under_every_driver(
    tmp_path: Path, recorded_by: str, backend: str
) -> None:
    cassette = tmp_path / "session.jsonl"
    with jobs_emulator.serve(tokens=TOKENS, clock="manual") as emu:
        options = (
            client_options(emu, backend)
            if backend != "http"
            else {"base_url": emu.base_url, "token": "tok-alice"}
        )
        if backend == "sql":
            options = {"snowflake": {**emu.snowflake, "user": "alice"}, "app": emu.app}
        options = {**options, "record": cassette}
        recorded = run_scenario(recorded_by, options, every_call, VirtualTime(emu))
    # The emulator is stopped: nothing answers on its port any more. What was recorded is what
    # the scenario means to show, errors exactly where they are expected:
    errors = [o[0] if isinstance(o, tuple) else None for o in recorded]
    assert errors == [None] * 8 + ["JobTimeoutError", None, None, None, "JobNotReadyError",
                                   "JobInvalidRequestError", None, None]  # fmt: skip
    assert recorded[2].state == recorded[6].state == "COMPLETED"
    assert recorded[5] == list(range(1, 13))
    # The Logic transaction ended before the Prescriptive job was cancelled: first either way.
    assert [job.id for job in recorded[-2]] == recorded[-1] == [recorded[0], recorded[7]]
    assert "tok-alice" not in cassette.read_text()  # credentials never reach a cassette
    for replayed_by in DRIVERS:
        assert run_scenario(replayed_by, {"replay": cassette}, every_call) == recorded


def test_a_wait_of_seconds_replays_in_milliseconds(tmp_path: Path) -> None:
    cassette = tmp_path / "wait.jsonl"
    with jobs_emulator.serve(clock="manual") as emu:
        clock = VirtualTime(emu)
        with clock.connect_sync(base_url=emu.base_url, record=cassette) as client:
            started = clock.now()
            op = client.create("Predictive", "slow", {"emulate": {"duration_s": 3}})
            recorded = op.wait(poll_interval_s=0.25)
            assert clock.now() - started >= 2.5  # seconds of waiting, recorded
    started = time.monotonic()
    with connect_sync(replay=cassette) as client:
        replayed = client.create("Predictive", "slow", {"emulate": {"duration_s": 3}}).wait(
            poll_interval_s=0.25
        )
    assert time.monotonic() - started < 1.5  # well under the 3 s it took live
    assert replayed == recorded


# --- tampered cassettes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Job]:
    path = tmp_path_factory.mktemp("cassettes") / "good.jsonl"
    with (
        jobs_emulator.serve(clock="manual") as emu,
        VirtualTime(emu).connect_sync(base_url=emu.base_url, record=path) as client,
    ):
        job = client.create_ready("Predictive", "w", {"x": 1}, poll_interval_s=0.1)
    return path.read_text().splitlines(keepends=True), job


@pytest.fixture(scope="module")
def good_cassette(good_recording: tuple[list[str], Job]) -> list[str]:
    return good_recording[0]


def replay(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "tampered.jsonl"
    path.write_text("".join(lines))
    with connect_sync(replay=path) as client:
        client.create_ready("Predictive", "w", {"x": 1}, poll_interval_s=0.1)


def test_the_untouched_cassette_replays(good_recording: tuple[list[str], Job]) -> None:
    lines, recorded = good_recording
    replayer = Replayer(Cassette.parse(lines))
    with connect_sync(replay=replayer) as client:
        replayed = client.create_ready("Predictive", "w", {"x": 1}, poll_interval_s=0.1)
    replayer.finish()  # nothing recorded was left over
    assert replayed == recorded
    assert replayed.state == "COMPLETED"


def test_a_changed_request_shows_a_diff(tmp_path: Path, good_cassette: list[str]) -> None:
    index = next(i for i, text in enumerate(good_cassette) if '"method": "POST"' in text)
    line = json.loads(good_cassette[index])
    body = json.loads(line["effect"]["body"])
    body["worker_name"] = "someone-else"
    line["effect"]["body"] = json.dumps(body)
    tampered = [*good_cassette[:index], json.dumps(line) + "\n", *good_cassette[index + 1 :]]
    with pytest.raises(CassetteError) as raised:
        replay(tmp_path, tampered)
    message = str(raised.value)
    number = index + 1
    assert f"call 0 (the call itself) does not match the cassette at line {number}" in message
    assert f"--- recorded (line {number})\n+++ this run" in message
    changed = [row for row in message.splitlines() if row.startswith(("-  ", "+  "))]
    assert len(changed) == 2
    assert "someone-else" in changed[0]
    assert '\\"worker_name\\":\\"w\\"' in changed[1]


def test_a_missing_reply_says_where_the_recording_ended(
    tmp_path: Path, good_cassette: list[str]
) -> None:
    with pytest.raises(
        CassetteError,
        match=r"call 0 \(the call itself\) emitted an effect the cassette does not have",
    ):
        replay(tmp_path, good_cassette[:-1])


def test_a_truncated_file_names_the_line(tmp_path: Path, good_cassette: list[str]) -> None:
    last = len(good_cassette)
    with pytest.raises(
        CassetteError, match=rf"line {last}: not valid JSON \(is the file truncated\?\)"
    ):
        replay(tmp_path, [*good_cassette[:-1], good_cassette[-1][:25]])


def test_a_wrong_version_is_refused(tmp_path: Path, good_cassette: list[str]) -> None:
    header = json.loads(good_cassette[0])
    header["version"] = 99
    with pytest.raises(CassetteError, match="cassette version 99 is not supported"):
        replay(tmp_path, [json.dumps(header) + "\n", *good_cassette[1:]])


def test_a_recorded_reply_that_is_not_one_is_named(
    tmp_path: Path, good_cassette: list[str]
) -> None:
    line = json.loads(good_cassette[1])
    line["reply"] = {"type": "Teapot"}
    with pytest.raises(CassetteError, match="line 2: unusable recorded reply"):
        replay(tmp_path, [good_cassette[0], json.dumps(line) + "\n", *good_cassette[2:]])


def test_fewer_calls_than_recorded_is_reported(tmp_path: Path, good_cassette: list[str]) -> None:
    path = tmp_path / "longer.jsonl"
    second_call = [text.replace('"stream": "0"', '"stream": "1"') for text in good_cassette[1:]]
    path.write_text("".join([*good_cassette, *second_call]))
    with path.open(encoding="utf-8") as lines:
        replayer = Replayer(Cassette.parse(lines))
    with connect_sync(replay=replayer) as client:
        client.create_ready("Predictive", "w", {"x": 1}, poll_interval_s=0.1)
    first = len(good_cassette) + 1
    with pytest.raises(CassetteError, match=f"were never replayed, the first at line {first}"):
        replayer.finish()
