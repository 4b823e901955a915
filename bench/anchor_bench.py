"""This client against the one it re-implements (relationalai 1.37.0) and bare HTTP baselines.

Every client runs in a process of its own (`bench.clients`) against one emulator process; the
clients take turns, block after block, and each figure is the median over blocks of the ratio
between two clients measured in the same block. relationalai is the anchor: it is looked for in
the Python named by ``BENCH_ANCHOR_PYTHON`` (default ``/tmp/relationalai-1.37.0/bin/python``, a
throwaway virtual environment: ``make anchor`` makes it; relationalai is never a dependency of
this project). Without it the figures compare against bare httpcore and h11 only, and say so.
Run with ``python -m bench.anchor_bench [--blocks B] [--calls N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.core_bench import job_object
from bench.emulator_get import emulator
from jobs_transports import connect_sync

ANCHOR_PYTHON = os.environ.get("BENCH_ANCHOR_PYTHON", "/tmp/relationalai-1.37.0/bin/python")
LIST_SIZE = 500
CREATES = 1_000
PARSED_JOBS = 10_000


class Worker:
    """One `bench.clients` process, answering one command at a time."""

    def __init__(self, name: str, python: str, base_url: str) -> None:
        self.name = name
        root = str(Path(__file__).resolve().parent.parent)
        self._process = subprocess.Popen(
            [python, "-m", "bench.clients", name, base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": root},
        )
        self._read()

    def _read(self) -> dict[str, float]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited")
        answer: dict[str, float] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name}: {answer['error']}")
        return answer

    def run(self, **command: object) -> dict[str, float]:
        """Returns the timing of `command` (see `bench.clients`)."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ends the process."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def anchor_present() -> bool:
    """True when `ANCHOR_PYTHON` can import relationalai's jobs client."""
    if not Path(ANCHOR_PYTHON).exists():
        return False
    check = [ANCHOR_PYTHON, "-c", "import relationalai.services.jobs.client, aiohttp, requests"]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def load() -> str:
    """How busy the machine is: the load averages over 1, 5 and 15 minutes, and the cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


@contextlib.contextmanager
def workers(names: list[str], base_url: str, anchor: bool) -> Iterator[dict[str, Worker]]:
    """Starts one worker per client (the anchor's under its own Python); yields them by name."""
    started: dict[str, Worker] = {}
    try:
        for name in names:
            if name.startswith("rai") and not anchor:
                continue
            python = ANCHOR_PYTHON if name.startswith("rai") else sys.executable
            started[name] = Worker(name, python, base_url)
        yield started
    finally:
        for worker in started.values():
            worker.close()


def blocks(
    pool: dict[str, Worker], names: list[str], count: int, **command: object
) -> dict[str, list[dict[str, float]]]:
    """Runs `command` on each present client in turn, `count` times; returns the timings."""
    present = [name for name in names if name in pool]
    timings: dict[str, list[dict[str, float]]] = {name: [] for name in present}
    for _ in range(count):
        for name in present:
            timings[name].append(pool[name].run(**command))
    return timings


def rate_ratio(timings: dict[str, list[dict[str, float]]], ours: str, theirs: str) -> float:
    """Returns the median over blocks of ours' rate / theirs' rate (same calls in each block)."""
    return statistics.median(
        b["wall"] / a["wall"] for a, b in zip(timings[ours], timings[theirs], strict=True)
    )


def median_of(timings: list[dict[str, float]], key: str, per: int) -> float:
    """Returns the median over blocks of `key` seconds divided by `per`."""
    return statistics.median(timing[key] / per for timing in timings)


def compare(
    timings: dict[str, list[dict[str, float]]],
    label: str,
    ours: str,
    baselines: list[str],
    calls: int,
    goal: dict[str, float] | None = None,
) -> None:
    """Prints our rate and CPU per call, and the median ratio to each present baseline."""
    rate = 1 / median_of(timings[ours], "wall", calls)
    cpu = median_of(timings[ours], "cpu", calls) * 1e6
    print(f"  {label:<26} {rate:>8.0f}/s  CPU {cpu:>6.0f} µs/call")
    for base in baselines:
        if base not in timings:
            continue
        ratio = rate_ratio(timings, ours, base)
        base_rate = 1 / median_of(timings[base], "wall", calls)
        base_cpu = median_of(timings[base], "cpu", calls) * 1e6
        target = (goal or {}).get(base)
        verdict = "" if target is None else (" ok" if ratio >= target else f" BELOW {target}x")
        print(
            f"    vs {base:<20} {base_rate:>8.0f}/s  CPU {base_cpu:>6.0f} µs/call"
            f"   ratio {ratio:>5.2f}x{verdict}"
        )


def main(argv: list[str] | None = None) -> None:
    """Prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.anchor_bench", description=__doc__)
    parser.add_argument("--blocks", type=int, default=7, help="alternating blocks per figure")
    parser.add_argument("--calls", type=int, default=400, help="gets per client and block")
    args = parser.parse_args(argv)
    anchor = anchor_present()
    print(load())
    if anchor:
        print(f"anchor: relationalai 1.37.0 under {ANCHOR_PYTHON}")
    else:
        print(
            f"anchor ABSENT (no relationalai under {ANCHOR_PYTHON}; `make anchor` installs it):"
            " comparing against bare httpcore and h11 only"
        )
    names = [
        "ours-sync", "rai-sync", "httpcore-sync", "h11-socket",
        "ours-asyncio", "rai-asyncio", "httpcore-asyncio", "ours-trio", "httpcore-trio",
    ]  # fmt: skip
    with emulator(in_process=False) as (host, port):
        base_url = f"http://{host}:{port}"
        with connect_sync(base_url=base_url) as client:
            job = client.create("Predictive", "bench", {}).id
            for _ in range(LIST_SIZE - 1):
                client.create("Predictive", "bench", {})
        with workers(names, base_url, anchor) as pool:
            print(f"\nget round trips, {args.calls} per block, median of {args.blocks} blocks")
            gets = blocks(pool, names, args.blocks, op="get", calls=args.calls, job=job)
            compare(
                gets, "sync get", "ours-sync", ["rai-sync", "httpcore-sync", "h11-socket"],
                args.calls, goal={"httpcore-sync": 0.9},
            )  # fmt: skip
            compare(
                gets, "asyncio get", "ours-asyncio", ["rai-asyncio", "httpcore-asyncio"],
                args.calls, goal={"rai-asyncio": 1.0},
            )  # fmt: skip
            compare(
                gets, "trio get", "ours-trio", ["rai-asyncio", "httpcore-trio"],
                args.calls, goal={"rai-asyncio": 1.0},
            )  # fmt: skip

            lists = 10
            print(f"\nlist of {LIST_SIZE} jobs, {lists} per block")
            listed = blocks(
                pool, ["ours-sync", "rai-sync", "ours-asyncio", "rai-asyncio"], args.blocks,
                op="list", calls=lists, size=LIST_SIZE,
            )  # fmt: skip
            compare(listed, "sync list", "ours-sync", ["rai-sync"], lists)
            compare(listed, "asyncio list", "ours-asyncio", ["rai-asyncio"], lists)

            print(f"\n{PARSED_JOBS:,}-job list body parsed into job models (same bytes)")
            with tempfile.TemporaryDirectory() as folder:
                body = Path(folder, "list.json")
                jobs = [{**job_object(i), "type": "ML"} for i in range(PARSED_JOBS)]
                body.write_bytes(json.dumps({"jobs": jobs}).encode())
                parses = 3
                parsed = blocks(
                    pool, ["ours-sync", "rai-sync"], args.blocks,
                    op="parse", calls=parses, body=str(body),
                )  # fmt: skip
            compare(parsed, "list -> Jobs", "ours-sync", ["rai-sync"], parses,
                    goal={"rai-sync": 3.0})  # fmt: skip

            print(f"\n{CREATES:,} concurrent creates on one event loop")
            created = blocks(
                pool, ["ours-asyncio", "rai-asyncio", "ours-trio"], max(args.blocks // 2, 1),
                op="creates", calls=CREATES,
            )  # fmt: skip
            compare(created, "asyncio creates", "ours-asyncio", ["rai-asyncio"], CREATES,
                    goal={"rai-asyncio": 1.0})  # fmt: skip
            compare(created, "trio creates", "ours-trio", ["rai-asyncio"], CREATES,
                    goal={"rai-asyncio": 1.0})  # fmt: skip
    print(load())


if __name__ == "__main__":
    main()
