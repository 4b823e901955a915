"""Every public method and argument, on {sync, asyncio, trio} × {HTTP, SQL, hybrid}, over loopback.

Jobs are scripted through the payload's ``"emulate"`` object to last a fraction of a second, on
the emulator's manual clock: the clients' sleeps move it forward (`tests.virtual_time`), so no
test waits in real time.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

import pytest

import jobs_emulator
from jobs_core import (
    Job,
    JobCapabilityError,
    JobClientDisconnectedError,
    JobEvents,
    JobExpanded,
    JobInvalidRequestError,
    JobNotReadyError,
    JobTimeoutError,
)
from tests.drivers.conftest import Runner
from tests.drivers.uniform import Uniform
from tests.virtual_time import VirtualTime

TYPES = ("Logic", "Prescriptive", "Predictive")
FAST = {"timeout_s": 30, "poll_interval_s": 0.05}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def payload(reasoner_type: str, **emulate: Any) -> dict[str, Any]:
    """A payload every backend accepts, scripted with `emulate`."""
    script = {"duration_s": 0.2, **emulate}
    if reasoner_type == "Logic":
        return {"database": "db1", "query": "def output = 1", "headers": {"emulate": script}}
    return {"inputs": [1, 2], "emulate": script}


def test_create_wait_get_every_type(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        for reasoner_type in TYPES:
            name = unique("r")
            op = await client.create(reasoner_type, name, payload(reasoner_type), timeout_mins=5)
            assert op.metadata == {"reasoner_type": reasoner_type, "name": name}
            job = await client.wait(reasoner_type, op.id, **FAST)
            assert isinstance(job, Job)
            assert not isinstance(job, JobExpanded)
            assert (job.id, job.reasoner_type, job.state, job.name) == (
                op.id,
                reasoner_type,
                "COMPLETED",
                name,
            )
            assert job.created_by == "alice"
            assert job.created_on is not None
            assert job.created_on.tzinfo is not None
            assert job.finished_at is not None
            assert job.finished_at >= job.created_on
            assert isinstance(job.duration, int)
            assert job.duration >= 200
            if reasoner_type == "Logic":
                assert job.model == "db1"
            again = await client.get(reasoner_type.upper(), op.id)
            assert again == job

    run(scenario)


def test_create_ready_with_every_expansion(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        script = {
            "events": 4,
            "artifacts": ["out.csv"],
            "problems": [{"type": "warning", "message": "m", "props": {"line": 3}}],
        }
        everything = {
            "details": True,
            "events": True,
            "artifacts": True,
            "problems": True,
            "raw": True,
        }
        job = await client.create_ready(
            "Logic", unique("e"), payload("Logic", **script), include=everything, **FAST
        )
        assert isinstance(job, JobExpanded)
        assert job.state == "COMPLETED"
        assert job.details is not None
        assert job.details["model"] == "db1"
        assert job.events is not None
        assert len(job.events.events) == 4
        assert job.artifacts is not None
        assert list(job.artifacts) == ["out.csv"]
        assert job.problems is not None
        # Over SQL a problem is a row: its keys are the upper-cased column names.
        (problem,) = job.problems["problems"]
        folded = {key.lower(): value for key, value in problem.items()}
        assert folded == {"type": "warning", "message": "m", "props": {"line": 3}}
        assert job.raw is not None
        assert job.raw

        job = await client.create_ready(
            "Predictive",
            unique("w"),
            payload("Predictive", events=2),
            include={"events": True, "details": True},
            **FAST,
        )
        assert isinstance(job, JobExpanded)
        assert job.events is not None
        assert len(job.events.events) == 2
        assert (job.artifacts, job.problems, job.raw) == (None, None, None)
        assert job.details is not None
        assert job.details["payload"]["inputs"] == [1, 2]

    run(scenario)


def test_list_across_types_with_filters_and_include(run: Runner, virtual_time: VirtualTime) -> None:
    name = unique("shared")

    async def scenario(client: Uniform) -> None:
        ids = []
        for reasoner_type in TYPES:
            ids.append((await client.create(reasoner_type, name, payload(reasoner_type))).id)
            virtual_time.sleep(0.01)  # creation times to the millisecond: keep them apart
        running = (await client.create("Predictive", name, payload("Predictive", duration_s=30))).id
        for reasoner_type, job_id in zip(TYPES, ids, strict=True):
            await client.wait(reasoner_type, job_id, **FAST)

        merged = await client.list(name=name.upper())
        assert [j.id for j in merged] == [running, *reversed(ids)]
        created = [j.created_on for j in merged]
        assert created == sorted(created, reverse=True)
        assert {j.reasoner_type for j in merged} == set(TYPES)

        assert [j.id for j in await client.list(name=name, limit=2, offset=1)] == [ids[2], ids[1]]
        assert [j.id for j in await client.list(name=name, only_active=True)] == [running]
        assert [j.id for j in await client.list("Predictive", name=name, state="completed")] == [
            ids[2]
        ]
        assert [j.id for j in await client.list("ml", job_id=running)] == [running]
        assert await client.list("Logic", job_id=ids[1]) == []  # a job id under the wrong type
        assert await client.list(name=name, limit=0) == []
        assert await client.list(name=name, created_by="someone-else") == []
        assert len(await client.list(name=name, created_by="ALICE")) == 4
        assert len(await client.list(name=name, created_by="someone-else", all_users=True)) == 4

        expanded = await client.list("Logic", name=name, include={"details": True, "raw": True})
        assert len(expanded) == 1
        assert isinstance(expanded[0], JobExpanded)
        assert expanded[0].details is not None
        await client.cancel("Predictive", running)

    run(scenario)


def test_event_pages_to_the_end_and_following(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        for reasoner_type in TYPES:
            op = await client.create(reasoner_type, unique("ev"), payload(reasoner_type, events=25))
            await client.wait(reasoner_type, op.id, **FAST)
            pages, token = [], ""
            while True:
                page = await client.get_events(reasoner_type, op.id, token, stream_name="progress")
                assert isinstance(page, JobEvents)
                pages.append(len(page.events))
                if not page.continuation_token or not page.events:
                    break
                token = page.continuation_token
            assert sum(pages) == 25
            assert max(pages) == 10

            followed = unique("follow")
            op = await client.create(
                reasoner_type, followed, payload(reasoner_type, events=6, duration_s=0.6)
            )
            seen = [
                e["index"]
                async for e in client.events(
                    reasoner_type, op.id, follow=True, poll_interval_s=0.05
                )
            ]
            assert seen == [1, 2, 3, 4, 5, 6]
            assert client.last_iterator.continuation_token is None

    run(scenario)


def test_unknown_stream_name(run: Runner, backend: str) -> None:
    async def scenario(client: Uniform) -> None:
        op = await client.create("Predictive", unique("s"), payload("Predictive"))
        with pytest.raises(JobInvalidRequestError):
            await client.get_events("Predictive", op.id, stream_name="debug")

    run(scenario)


def test_a_continuation_token_the_service_refuses(run: Runner, backend: str) -> None:
    # A 400 over HTTP, SQLSTATE 22023 over SQL: the caller's argument either way.
    async def scenario(client: Uniform) -> None:
        for reasoner_type in TYPES:
            op = await client.create(reasoner_type, unique("t"), payload(reasoner_type, events=3))
            with pytest.raises(JobInvalidRequestError, match="token"):
                await client.get_events(reasoner_type, op.id, "not-a-token")

    run(scenario)


def test_cancel(run: Runner, backend: str) -> None:
    async def scenario(client: Uniform) -> None:
        for reasoner_type in TYPES:
            op = await client.create(
                reasoner_type, unique("c"), payload(reasoner_type, duration_s=30)
            )
            assert await client.cancel(reasoner_type, op.id) is None
            job = await client.get(reasoner_type, op.id)
            assert job.state == "CANCELED"
            assert (await client.get_operation(reasoner_type, op.id)).status == "CANCELLED"
            await client.cancel(reasoner_type, op.id)  # cancelling a terminal job is harmless
        with pytest.raises(JobInvalidRequestError):
            await client.cancel("Prescriptive", op.id, all_users=True)

        op = await client.create("Logic", unique("c"), payload("Logic", duration_s=30))
        if backend == "http":
            with pytest.raises(JobCapabilityError):
                await client.cancel("Logic", op.id, all_users=True)
            await client.cancel("Logic", op.id)
        else:
            await client.cancel("Logic", op.id, all_users=True)
        assert (await client.get("Logic", op.id)).state == "CANCELED"

    run(scenario)


def test_not_found(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        for reasoner_type in TYPES:
            missing = str(uuid.uuid4())
            assert await client.get(reasoner_type, missing) is None
            assert await client.get(reasoner_type, missing, include={"details": True}) is None
            assert (await client.get_operation(reasoner_type, missing)).status == "PENDING"
            assert await client.list(reasoner_type, job_id=missing) == []

    run(scenario)


def test_not_ready(run: Runner, session_manual_emu: jobs_emulator.Emulator) -> None:
    async def scenario(client: Uniform) -> None:
        for reasoner_type in TYPES:
            with pytest.raises(JobNotReadyError):
                await client.create(
                    reasoner_type, unique("nr"), payload(reasoner_type, not_ready=True)
                )
        name = unique("cold")
        session_manual_emu.engine.set_not_ready(name)
        try:
            with pytest.raises(JobNotReadyError):
                await client.create_ready("Prescriptive", name, payload("Prescriptive"), **FAST)
        finally:
            session_manual_emu.engine.set_not_ready(name, False)

    run(scenario)


def test_wait_timeout_carries_the_last_seen_job(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        op = await client.create(
            "Prescriptive", unique("slow"), payload("Prescriptive", duration_s=30)
        )
        seen: list[Job | None] = []
        with pytest.raises(JobTimeoutError) as raised:
            await client.wait(
                "Prescriptive", op.id, timeout_s=1.5, poll_interval_s=0.05, on_poll=seen.append
            )
        assert raised.value.job is not None
        assert raised.value.job.state in {"PENDING", "RUNNING"}
        assert len(seen) >= 2
        assert seen[-1] == raised.value.job
        await client.cancel("Prescriptive", op.id)

    run(scenario)


@pytest.mark.parametrize("timeout_s", [math.inf, 1e300, 10**400], ids=["inf", "1e300", "10**400"])
def test_waits_without_a_deadline_to_speak_of(run: Runner, timeout_s: float) -> None:
    """No platform wait takes a timeout of 1e300 s (threading's stop at ~292 years): the SQL
    statements of such a wait raised OverflowError."""

    async def scenario(client: Uniform) -> None:
        forever = {"timeout_s": timeout_s, "poll_interval_s": 0.05}
        op = await client.create("Predictive", unique("r"), payload("Predictive"))
        assert (await client.wait("Predictive", op.id, **forever)).state == "COMPLETED"
        job = await client.create_ready("Logic", unique("e"), payload("Logic"), **forever)
        assert job.state == "COMPLETED"
        (final,) = await client.wait_all([("Logic", job.id)], **forever)
        assert final == job

    run(scenario)


def test_client_disconnected_abort(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        script = payload("Logic", outcome="ABORTED", abort_reason="client disconnected")
        with pytest.raises(JobClientDisconnectedError):
            await client.create_ready("Logic", unique("d"), script, **FAST)
        op = await client.create("Logic", unique("d"), script)
        with pytest.raises(JobClientDisconnectedError):
            await client.wait("Logic", op.id, **FAST)
        failed = await client.create_ready(
            "Predictive", unique("f"), payload("Predictive", outcome="FAILED"), **FAST
        )
        assert failed.state == "FAILED"
        assert (
            await client.get_operation("Predictive", failed.id)
        ).error == "job ended in state=FAILED"

    run(scenario)


def test_operation_handle(run: Runner) -> None:
    async def scenario(client: Uniform) -> dict[str, Any]:
        running = await client.create(
            "Predictive", unique("op"), payload("Predictive", duration_s=60)
        )
        assert not await running.is_done()
        assert (await running.status()).status in {"PENDING", "RUNNING"}
        with pytest.raises(JobNotReadyError):
            await running.result()
        await client.cancel("Predictive", running.id)
        assert (await running.status()).status == "CANCELLED"

        op = await client.create("Predictive", unique("op"), payload("Predictive"))
        job = await op.wait(timeout_s=30, poll_interval_s=0.05)
        assert job.state == "COMPLETED"
        assert await op.is_done()
        assert await op.result() == job
        expanded = await op.result(include={"raw": True})
        assert isinstance(expanded, JobExpanded)
        data: dict[str, Any] = await op.to_dict()
        return data

    data = run(scenario)

    async def resumed(client: Uniform) -> None:
        op = await client.operation(data)
        assert op.id == data["id"]
        assert (await op.status()).status == "SUCCEEDED"

    run(resumed)


def test_users(run: Runner, backend: str) -> None:
    name = unique("users")

    async def as_bob(client: Uniform) -> str:
        op = await client.create("Logic", name, payload("Logic", duration_s=30))
        return str(op.id)

    bobs = run(as_bob, user="bob")

    async def as_alice(client: Uniform) -> None:
        listed = await client.list("Logic", name=name)
        assert [(j.id, j.created_by) for j in listed] == [(bobs, "bob")]
        assert await client.list("Logic", name=name, created_by="alice") == []
        if backend != "http":
            await client.cancel("Logic", bobs, all_users=True)
            assert (await client.get("Logic", bobs)).state == "CANCELED"

    run(as_alice)


def test_invalid_arguments_raise_the_documented_error(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        with pytest.raises(
            JobInvalidRequestError, match="Expected: Logic, Prescriptive, or Predictive"
        ):
            await client.get("Batch", "x")
        with pytest.raises(JobInvalidRequestError):
            await client.wait("Logic", "x", timeout_s=0)
        with pytest.raises(JobInvalidRequestError):
            await client.create("Logic", " ", {})
        with pytest.raises(JobInvalidRequestError):
            await client.list(offset=-1)
        with pytest.raises(JobInvalidRequestError):
            await client.get("Predictive", "x", include={"artifacts": True})

    run(scenario)


def test_timestamps_are_aware_utc(run: Runner) -> None:
    async def scenario(client: Uniform) -> None:
        job = await client.create_ready("Logic", unique("ts"), payload("Logic"), **FAST)
        assert job.created_on.utcoffset() == dt.timedelta(0)

    run(scenario)
