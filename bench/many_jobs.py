"""Waiting on many jobs: what `wait_all` / `as_completed` cost against separate waits, and memory.

1. Core, simulated time (no I/O, no wall clock): 1,000 jobs of 1-5 minutes, a third of each
   reasoner type, waited on with one `wait_all`, then with 1,000 separate `wait`s, over HTTP and
   over SQL. Printed: requests (lists, gets), and how late each end was seen.
2. Emulator (manual clock, in this process) and a client in a child process, which reports its
   own peak RSS (`resource.getrusage`): 10,000 jobs through one `as_completed`, on asyncio and on
   trio; then 1,000 concurrent separate `wait`s on each. The clock moves `--step` emulated seconds
   every `--tick` real seconds once the child is ready, so the jobs end over the run. Requests are
   counted by the emulator.

Run with ``python -m bench.many_jobs [--jobs N] [--separate N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

import jobs_core as core
import jobs_emulator
from jobs_core import ClientConfig, ReasonerType, ReasonerTypeName
from jobs_transports import connect
from tests.core.simulated_service import SimJob, SimulatedService

RSS_LIMIT_MB = 300
KINDS = (ReasonerType.LOGIC, ReasonerType.PRESCRIPTIVE, ReasonerType.PREDICTIVE)


def simulated_jobs(count: int, seed: int = 11) -> list[SimJob]:
    """`count` jobs lasting 60-300 s, the three types in turn."""
    rng = random.Random(seed)
    return [SimJob(KINDS[n % 3], f"job-{n}", rng.uniform(60, 300)) for n in range(count)]


def delays(service: SimulatedService, jobs: list[SimJob]) -> list[float]:
    """How late each job's end was seen, as a fraction of its duration."""
    return [(service.seen_ended[(j.kind, j.id)] - j.ends_at) / j.ends_at for j in jobs]


def core_figures(count: int) -> None:
    """Prints part 1."""
    jobs = simulated_jobs(count)
    ops = [(job.kind.value, job.id) for job in jobs]
    for name, config in (
        ("HTTP", ClientConfig(http=True)),
        ("SQL", ClientConfig(sql=True, app="APP")),
    ):
        together = SimulatedService(jobs)
        together.run(core.wait_all(config, ops, timeout_s=3_600))
        separate = SimulatedService(jobs)
        for job in jobs:
            separate.clock = 0.0
            separate.run(core.wait(config, job.kind.value, job.id, timeout_s=3_600))
        ours, theirs = together.counts(), separate.counts()
        late, late_alone = delays(together, jobs), delays(separate, jobs)
        print(
            f"  {name:4}: wait_all {ours['list']:4d} lists + {ours['get']:5d} gets"
            f" = {sum(ours.values()):6d} requests in {len(together.sleeps) + 1} rounds;"
            f" {count} separate waits {sum(theirs.values()):7d} requests"
            f" (x{sum(ours.values()) / sum(theirs.values()):.3f})"
        )
        print(
            f"        end seen late by mean {statistics.mean(late):.1%} / max {max(late):.1%}"
            f" of the job (separate waits: {statistics.mean(late_alone):.1%} /"
            f" {max(late_alone):.1%})"
        )


def gather(runtime: str, calls: Sequence[Callable[[], Awaitable[None]]]) -> Awaitable[Any]:
    """Returns an awaitable that runs every coroutine function of `calls` at once."""
    if runtime == "asyncio":
        return asyncio.gather(*(call() for call in calls))

    async def nursery() -> None:
        async with trio.open_nursery() as tasks:
            for call in calls:
                tasks.start_soon(call)

    return nursery()


async def child(mode: str, runtime: str, base_url: str, ids: list[str]) -> dict[str, float]:
    """Waits on every job of `ids` as `mode` says; returns what it saw and its peak RSS."""
    ops: list[tuple[ReasonerTypeName, str]] = [("Predictive", job_id) for job_id in ids]
    finished = 0
    async with connect(base_url=base_url, token="bench") as client:
        print("ready", flush=True)
        started = time.perf_counter()
        if mode == "as_completed":
            async for _ in client.as_completed(ops, timeout_s=900):
                finished += 1
        else:

            async def wait_one(job_id: str) -> None:
                nonlocal finished
                await client.wait("Predictive", job_id, timeout_s=900)
                finished += 1

            await gather(runtime, [functools.partial(wait_one, job_id) for job_id in ids])
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"finished": finished, "seconds": elapsed, "peak_rss_mb": peak}


def run_child(argv: list[str]) -> None:
    """The child process: runs `child` and prints its result as the last line."""
    mode, runtime, base_url, ids_file = argv
    ids = json.loads(Path(ids_file).read_text())
    main = child(mode, runtime, base_url, ids)
    result = asyncio.run(main) if runtime == "asyncio" else trio.run(lambda: main)
    print(json.dumps(result), flush=True)


def scale_figure(mode: str, runtime: str, count: int, step: float, tick: float) -> None:
    """Prints one line of part 2: `count` jobs waited on in a child process."""
    rng = random.Random(5)
    with jobs_emulator.serve(clock="manual") as emu, tempfile.TemporaryDirectory() as tmp:
        ids = [
            emu.engine.create_job(
                "ML", "bench", {"emulate": {"duration_s": rng.uniform(60, 300)}}, user="bench"
            )
            for _ in range(count)
        ]
        # Zero delays that only count: the first rule that matches a request takes it.
        gets = emu.faults.delay(0, method="GET", path="/v1alpha1/jobs/", times=None)
        lists = emu.faults.delay(0, method="GET", path="/v1alpha1/jobs", times=None)
        ids_file = Path(tmp) / "ids.json"
        ids_file.write_text(json.dumps(ids))
        command = [sys.executable, "-m", "bench.many_jobs", "--child"]
        command += [mode, runtime, emu.base_url, str(ids_file)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        with advancing(emu, step, tick, process):
            out, _ = process.communicate(timeout=900)
        if process.returncode != 0:
            raise RuntimeError(f"the {mode} child on {runtime} failed ({process.returncode})")
        result = json.loads(out.strip().splitlines()[-1])
    peak = result["peak_rss_mb"]
    verdict = "ok" if peak <= RSS_LIMIT_MB and result["finished"] == count else "OVER"
    print(
        f"  {runtime:7} {mode:12} {count:6d} jobs: {result['finished']:6d} finished in"
        f" {result['seconds']:6.1f} s, {lists.hits:5d} lists + {gets.hits:6d} gets,"
        f" peak RSS {peak:6.1f} MB (limit {RSS_LIMIT_MB}: {verdict})",
        flush=True,
    )


class advancing:
    """While the child runs (from its "ready" line), moves the clock `step` s every `tick` s."""

    def __init__(
        self, emu: jobs_emulator.Emulator, step: float, tick: float, process: subprocess.Popen[str]
    ) -> None:
        self.emu, self.step, self.tick, self.process = emu, step, tick, process
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> advancing:
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the child did not start")
        self.thread.start()
        return self

    def run(self) -> None:
        # Bounded: an hour of emulated time is past every job's end.
        for _ in range(int(3_600 / self.step)):
            if self.stop.wait(self.tick):
                return
            self.emu.engine.advance(self.step)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def main(argv: list[str] | None = None) -> None:
    """Prints every figure (or runs as the child process)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        run_child(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench.many_jobs", description=__doc__)
    parser.add_argument("--simulated", type=int, default=1_000, help="jobs in part 1")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs for as_completed")
    parser.add_argument("--separate", type=int, default=1_000, help="separate concurrent waits")
    parser.add_argument("--step", type=float, default=10.0, help="emulated seconds per tick")
    parser.add_argument("--tick", type=float, default=0.25, help="real seconds per tick")
    args = parser.parse_args(argv)
    print(f"simulated: {args.simulated} jobs of 1-5 minutes (core, no I/O)", flush=True)
    core_figures(args.simulated)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"emulator (manual clock) + client in a child process, its peak RSS; load {load}")
    for runtime in ("asyncio", "trio"):
        scale_figure("as_completed", runtime, args.jobs, args.step, args.tick)
        scale_figure("separate", runtime, args.separate, args.step, args.tick)


if __name__ == "__main__":
    main()
