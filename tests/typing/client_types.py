"""What the clients' signatures promise a type checker: checked by mypy (``make lint``), never run.

`include=` makes `get`/`wait`/`list`/`create_ready`/`wait_all`/`as_completed` and the handles'
`wait`/`result` return `JobExpanded` (an `include=` that may be None: the seeds' `Job`); a
reasoner type is any `str`, as the seeds type it (`ReasonerTypeName` names the spellings, for
editors to offer; a misspelt one is a `JobInvalidRequestError` before any I/O). Each
``type: ignore`` below must be needed: mypy --strict reports one that is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from typing_extensions import assert_type

from jobs_core import Job, JobEvents, JobExpanded, JobIncludeDict, Operation
from jobs_transports import (
    EventIterator,
    EventIteratorSync,
    JobOperation,
    JobOperationSync,
    JobsClient,
    JobsClientSync,
)


def blocking(client: JobsClientSync, maybe: JobIncludeDict | None, kind: str) -> None:
    assert_type(client.get("Logic", "t1"), Job | None)
    assert_type(client.get("Logic", "t1", include={"raw": True}), JobExpanded | None)
    assert_type(client.wait("Prescriptive", "j1"), Job)
    assert_type(client.wait("prescriptive", "j1", include={"details": True}), JobExpanded)
    assert_type(client.list(), list[Job])
    assert_type(client.list("Predictive", include={"events": True}), list[JobExpanded])
    assert_type(client.create_ready("ML", "r", {}), Job)
    assert_type(client.create_ready("ML", "r", {}, include={}), JobExpanded)
    assert_type(client.get_operation("LOGIC", "t1"), Operation)
    assert_type(client.get_events("Logic", "t1"), JobEvents)
    assert_type(client.get_events("ML", "j1", "token", stream_name="progress"), JobEvents)
    assert_type(client.cancel("Logic", "t1", all_users=True), None)
    assert_type(client.list("Logic", job_id="t1", state="RUNNING", limit=5), list[Job])
    op = client.create("SOLVER", "r", {}, timeout_mins=5)
    assert_type(op, JobOperationSync)
    assert_type(client.wait_all([op, ("Logic", "t1")]), list[Job])
    assert_type(client.wait_all([op], include={"raw": True}), list[JobExpanded])
    assert_type(client.wait_all([op], include=maybe), list[Job])
    assert_type(client.as_completed([op, ("ML", "j1")]), Iterator[Job])
    assert_type(client.as_completed([op], include={"raw": True}), Iterator[JobExpanded])
    assert_type(client.wait_all([(kind, "t1")]), list[Job])
    assert_type(op.wait(), Job)
    assert_type(op.wait(include={"raw": True}), JobExpanded)
    assert_type(op.wait(60, 0.5, {"raw": True}, raise_on_failure=True), JobExpanded)
    assert_type(op.result(), Job)
    assert_type(op.result({"raw": True}), JobExpanded)
    assert_type(op.events(), JobEvents)
    assert_type(op.iter_events(follow=True), EventIteratorSync)
    with op.cancel_on_error() as same:
        assert_type(same, JobOperationSync)
    # An include= that may be None gives the seeds' types.
    assert_type(client.get("Logic", "t1", include=maybe), Job | None)
    assert_type(client.wait("Logic", "t1", include=maybe), Job)
    assert_type(client.list(include=maybe), list[Job])
    assert_type(op.result(maybe), Job)
    # A reasoner type read from elsewhere (a config file, an argument) is a str: the seeds'.
    assert_type(client.get(kind, "t1"), Job | None)
    assert_type(client.create(kind, "r", {}), JobOperationSync)
    assert_type(client.list(kind, include={"raw": True}), list[JobExpanded])
    client.list(include={"rows": True})  # type: ignore[call-overload]
    with client as same_client:
        assert_type(same_client, JobsClientSync)
    assert_type(client.close(), None)


async def awaiting(client: JobsClient, kind: str) -> None:
    assert_type(await client.get("Logic", "t1"), Job | None)
    assert_type(await client.get("Logic", "t1", include={"raw": True}), JobExpanded | None)
    assert_type(await client.wait("Predictive", "j1"), Job)
    assert_type(await client.wait("Predictive", "j1", include={"raw": True}), JobExpanded)
    assert_type(await client.list(), list[Job])
    assert_type(await client.list(include={"details": True}), list[JobExpanded])
    assert_type(await client.create_ready("Logic", "r", {}, include={}), JobExpanded)
    assert_type(await client.create_ready("Logic", "r", {}, timeout_mins=5), Job)
    assert_type(await client.list("Logic", job_id="t1", only_active=True), list[Job])
    assert_type(await client.get_events("Logic", "t1"), JobEvents)
    assert_type(await client.get_events("ML", "j1", "token", stream_name="progress"), JobEvents)
    assert_type(await client.cancel("Logic", "t1", all_users=True), None)
    assert_type(await client.get_operation("Predictive", "j1"), Operation)
    op = await client.create("Logic", "r", {})
    assert_type(op, JobOperation)
    assert_type(await op, Job)
    assert_type(await op.wait(), Job)
    assert_type(await op.wait(include={"problems": True}), JobExpanded)
    assert_type(await op.result(raise_on_failure=True), Job)
    assert_type(await op.events(), JobEvents)
    assert_type(op.iter_events(), EventIterator)
    assert_type(await client.wait_all([op, ("Logic", "t1")]), list[Job])
    assert_type(await client.wait_all([op], include={"events": True}), list[JobExpanded])
    assert_type(client.as_completed([op]), AsyncIterator[Job])
    assert_type(client.as_completed([op], include={"raw": True}), AsyncIterator[JobExpanded])
    async with op as job:
        assert_type(job, Job)
    async with op.cancel_on_error() as same:
        assert_type(same, JobOperation)
    assert_type(await client.wait(kind, "j1"), Job)
    assert_type(await client.get_operation(kind, "j1"), Operation)
    async with client as same_client:
        assert_type(same_client, JobsClient)
    assert_type(await client.aclose(), None)
