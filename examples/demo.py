"""The main job: a short realistic session per driver and backend, against the embedded emulator.

Each session creates one job of each reasoner type, follows the Predictive job's events as they
arrive, waits for the Prescriptive job with a progress line, cancels the Logic transaction, lists
with filters and `include=`, and adds a row to the summary table printed at the end.

Run it with ``make demo`` (or ``python -m examples.demo``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import trio

import jobs_emulator
from jobs_core import Job
from jobs_transports import JobsClient, JobsClientSync, connect, connect_sync

FOLLOWED = {"emulate": {"duration_s": 1.2, "events": 6}}
WAITED = {"emulate": {"duration_s": 2.0, "events": 2}}
LOGIC = {
    "database": "sales",
    "query": "def output = sum[orders]",
    "headers": {"emulate": {"duration_s": 60}},
}


@attrs.frozen
class Row:
    driver: str
    backend: str
    events: int
    waited: str
    polls: int
    cancelled: str
    listed: int
    seconds: float


class Calls:
    """One session script for every client: sync calls are run as they are, async ones awaited."""

    def __init__(self, client: JobsClient | JobsClientSync) -> None:
        self.client = client

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        return await result if isinstance(result, Awaitable) else result

    async def events(self, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        iterator = self.client.iter_events(*args, **kwargs)
        if isinstance(iterator, AsyncIterator):
            async for event in iterator:
                yield event
        else:
            for event in iterator:
                yield event


async def session(driver: str, backend: str, call: Calls) -> Row:
    started = time.monotonic()
    print(f"\n── {driver} driver · {backend} ──")
    followed = await call("create", "Predictive", "forecaster", FOLLOWED)
    waited = await call("create", "Prescriptive", "scheduler", WAITED)
    logic = await call("create", "Logic", "sales_engine", LOGIC)
    ids = f"Predictive {followed.id[:8]}, Prescriptive {waited.id[:8]}, Logic {logic.id[:8]}"
    print(f"  created {ids}")

    count = 0
    async for event in call.events("Predictive", followed.id, follow=True, poll_interval_s=0.1):
        count += 1
        print(f"  event  {event['message']:<13} {'█' * round(event['progress'] * 20):<20}")

    polls: list[str] = []
    redraw = sys.stdout.isatty()  # a log gets one line per change of state instead

    def progress(job: Job | None) -> None:
        state = job.state if job else "not visible yet"
        changed = not polls or polls[-1] != state
        polls.append(state)
        line = f"  wait   Prescriptive {waited.id[:8]}: {state:<10} poll {len(polls)}"
        if redraw:
            print(f"\r{line}", end="")
        elif changed:
            print(line)

    job = await call("wait", "Prescriptive", waited.id, poll_interval_s=0.1, on_poll=progress)
    print(f"{'' if redraw else '  wait  '} → {job.state} in {job.duration} ms")

    await call("cancel", "Logic", logic.id)
    status = await call("get_operation", "Logic", logic.id)
    print(f"  cancel Logic {logic.id[:8]}: operation {status.status}")

    recent = await call("list", limit=3, include={"details": True})
    cancelled = await call("list", "Logic", state="canceled", limit=50)
    newest = ", ".join(f"{j.reasoner_type}/{j.state}" for j in recent)
    print(f"  list   newest 3 of all types: {newest}")
    print(f"  list   cancelled Logic transactions so far: {len(cancelled)}")
    return Row(
        driver,
        backend,
        count,
        job.state,
        len(polls),
        status.status,
        len(recent),
        time.monotonic() - started,
    )


BACKEND_NAMES = ("Direct Access HTTP", "SQL (Snowflake connector)", "hybrid")


def backends(emu: jobs_emulator.Emulator) -> dict[str, dict[str, Any]]:
    http = {"base_url": emu.base_url}
    sql = {"snowflake": emu.snowflake, "app": emu.app}
    return dict(zip(BACKEND_NAMES, (http, sql, {**http, **sql}), strict=True))


@attrs.frozen
class Openers:
    """How the demo opens its clients: `connect_sync` and `connect` unless told otherwise (the
    demo's test opens them on the emulator's manual clock, so it does not wait in real time)."""

    sync: Callable[..., JobsClientSync] = connect_sync
    async_: Callable[..., JobsClient] = connect


def run_all(emu: jobs_emulator.Emulator, openers: Openers = Openers()) -> list[Row]:
    rows = []
    for backend, options in backends(emu).items():
        with openers.sync(**options) as client:
            rows.append(asyncio.run(session("sync", backend, Calls(client))))

        async def run_async(
            driver: str, options: dict[str, Any] = options, backend: str = backend
        ) -> None:
            async with openers.async_(**options) as client:
                rows.append(await session(driver, backend, Calls(client)))

        asyncio.run(run_async("asyncio"))
        trio.run(run_async, "trio")
    return rows


def print_table(rows: list[Row]) -> None:
    header = ("driver", "backend", "events", "waited", "polls", "cancel", "listed", "seconds")
    cells = [header] + [
        (r.driver, r.backend, str(r.events), r.waited, str(r.polls), r.cancelled, str(r.listed),
         f"{r.seconds:.1f}")
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print()
    for n, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("─" * width for width in widths))


def main(emu: jobs_emulator.Emulator | None = None, openers: Openers = Openers()) -> list[Row]:
    """Run the sessions against `emu` (by default an emulator of their own, on real time) with
    clients from `openers`; print the summary table and return its rows."""
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if emu is None:
            emu = stack.enter_context(jobs_emulator.serve())
        print(f"emulator on {emu.base_url} (Direct Access and Snowflake SQL API, app {emu.app})")
        rows = run_all(emu, openers)
    print_table(rows)
    print(f"\n{len(rows)} sessions in {time.monotonic() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
