"""What the pure core costs: building and parsing a `get` (by a client with no secrets, and by one
holding a token, whose every response is searched for it), and parsing a 10,000-job list.

Each figure is the median of several timed repeats, printed beside a plain `json.loads` of the
same bytes measured in the same run, so the ratio says what the core adds to decoding JSON.
Run with ``python -m bench.core_bench``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from jobs_core import (
    ClientConfig,
    EventsPager,
    HttpRequest,
    HttpResponse,
    Now,
    PollPolicy,
    Protocol,
    Sleep,
    Stepper,
    get,
    list_jobs,
)
from jobs_core import wait as wait_protocol

REPEATS = 15
"""Alternating runs per figure: a median over more of them moves less with the machine's state
(a whole `get` is Python code, which a busy machine slows more than `json.loads`)."""
LIST_SIZE = 10_000


def job_object(index: int) -> dict[str, Any]:
    """A job as the Direct Access API lists it, timestamps in the shapes the service mixes."""
    return {
        "id": f"01b2c3d4-0000-4000-8000-{index:012d}",
        "type": ("ML", "SOLVER", "predictive")[index % 3],
        "state": ("RUNNING", "COMPLETED", "FAILED")[index % 3],
        "worker_name": f"worker-{index % 7}",
        "created_by": "ada@example.com",
        "created_on": "2024-05-01T12:00:00.123Z",
        "finished_at": 1714565405500 if index % 3 else None,
        "duration": 5377 if index % 3 else None,
        "payload": json.dumps({"model": "arima", "horizon": index % 30}),
        "timeout_ms": 3600000,
        "abort_reason": "out of memory" if index % 3 == 2 else None,
    }


TRANSACTION = {
    "id": "txn-42",
    "database_name": "sales",
    "engine_name": "eng-a",
    "state": "COMPLETED",
    "abort_reason": None,
    "read_only": True,
    "created_by": "ada@example.com",
    "created_on": "2024-05-01 12:00:00.123",
    "finished_at": "2024-05-01T12:00:09.5+00:00",
    "duration": 8876,
}


class Timed:
    """One call's time of an action and of its baseline (medians over `REPEATS` alternating
    runs), and the median of the runs' ratios: measured in turns, so a change in the machine's
    speed during the figure moves both sides alike."""

    def __init__(
        self, action: Callable[[], object], baseline: Callable[[], object], loops: int
    ) -> None:
        actions, baselines = [], []
        for _ in range(REPEATS):
            baselines.append(_seconds_per_call(baseline, loops))
            actions.append(_seconds_per_call(action, loops))
        self.seconds = statistics.median(actions)
        self.baseline = statistics.median(baselines)
        self.ratio = statistics.median(a / b for a, b in zip(actions, baselines, strict=True))


def _seconds_per_call(action: Callable[[], object], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        action()
    return (time.perf_counter() - start) / loops


def report(name: str, timed: Timed, unit: str, goal: float | None = None) -> None:
    """Print one figure, in `unit` (µs or ms), with its ratio to the `json.loads` baseline, and
    whether it is within `goal` (at most that ratio) when there is one."""
    scale = 1e6 if unit == "µs" else 1e3
    ratio = timed.ratio
    verdict = (
        "" if goal is None else f"  (goal <= {goal:.1f}x: {'ok' if ratio <= goal else 'ABOVE'})"
    )
    print(
        f"{name:<44} {timed.seconds * scale:>9.2f} {unit}"
        f"   json.loads {timed.baseline * scale:>8.2f} {unit}   ratio {ratio:>5.2f}x{verdict}"
    )


CONFIG = ClientConfig(http=True)
TOKEN = (
    "eyJraWQiOiIxMjM0NTYiLCJhbGciOiJFUzI1NiJ9.eyJwIjoiMTIzNDU2OjEyMzQ1NiIsImlzcyI6IlNGOjEwMDEi"
    "LCJleHAiOjE3NjQxNzE2MDB9.n2Q4m7GZk1cXv0bYt8Hq5sWfJxR3uLpDaE6yNcKoVzM"
)
"""A programmatic access token's shape: what a Direct Access client holds, and masks in every
response (see `jobs_core._secrets`)."""
HOLDING_A_TOKEN = ClientConfig(http=True, secrets=(TOKEN,))


def answered(protocol: Protocol[Any], response: HttpResponse) -> Any:
    """Return what a one-request protocol returns when its request is answered with `response`:
    the public call, built and parsed, with no I/O, driven as the drivers drive it."""
    next(protocol)
    try:
        protocol.send(response)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the protocol asked for a second effect")


def time_get(kind: str, body: bytes, config: ClientConfig) -> Timed:
    """Time a whole `get` (arguments checked, request built, answer parsed into a `Job`) by a
    client configured as `config`, against `json.loads` of the same body."""
    response = HttpResponse(200, (("Content-Type", "application/json"),), body)

    def one_get() -> object:
        return answered(get(config, kind, "01b2c3d4-0000-4000-8000-000000000001"), response)

    return Timed(one_get, lambda: json.loads(body), 20_000)


def bench_get() -> None:
    """Time a `get` of each kind of body by a client with no secrets (the goal: build + parse),
    then by one holding a token, which also searches every response for it to mask it."""
    bodies = {
        "Predictive": json.dumps({"job": job_object(1)}).encode(),
        "Logic": json.dumps({"transaction": TRANSACTION}).encode(),
    }
    print("get: build + parse, by a client with no secrets")
    plain = {kind: time_get(kind, body, CONFIG) for kind, body in bodies.items()}
    for kind, timed in plain.items():
        report(f"  {kind}", timed, "µs", goal=2.0)
    print("get by a client holding a token: build + parse + masking the token in the response")
    for kind, body in bodies.items():
        masked = time_get(kind, body, HOLDING_A_TOKEN)
        report(f"  {kind}", masked, "µs")
        print(f"    masking: {(masked.seconds - plain[kind].seconds) * 1e6:+.2f} µs per response")


def bench_list() -> None:
    """Time a `list` of one type answered with a 10,000-job body: parsed, filtered, sorted."""
    body = json.dumps({"jobs": [job_object(i) for i in range(LIST_SIZE)]}).encode()
    response = HttpResponse(200, (), body)

    def listed() -> list[Any]:
        jobs: list[Any] = answered(list_jobs(CONFIG, "Predictive"), response)
        return jobs

    wanted = len(listed())
    timed = Timed(listed, lambda: json.loads(body), 1)
    print(f"list of {LIST_SIZE:,} jobs ({len(body) / 1e6:.1f} MB, {wanted:,} of the asked type):")
    report("  list -> Jobs, newest first", timed, "ms")
    print(f"  per job kept: {timed.seconds / wanted * 1e6:.2f} µs")


POLICIES = {
    "default": PollPolicy(),
    "before (x1.5 to 5 s)": PollPolicy(factor=1.5, max_interval_s=5.0, fraction=0.0),
    "every 0.5 s": PollPolicy(factor=1.0, fraction=0.0),
}


RUNNING = json.dumps({"transaction": {**TRANSACTION, "state": "RUNNING"}}).encode()
DONE = json.dumps({"transaction": TRANSACTION}).encode()
QUIET = json.dumps({"events": [], "continuation_token": "t"}).encode()


def simulated(protocol: Protocol[Any], duration: float) -> tuple[int, float]:
    """Return the requests `protocol` makes on a job lasting `duration` s whose event stream stays
    empty, and the time it ends at, on a fake clock that moves only when the protocol sleeps."""
    stepper = Stepper(protocol)
    clock, requests = 0.0, 0
    effect = stepper.start()
    while effect is not None:
        reply: object = None
        if isinstance(effect, Now):
            reply = clock
        elif isinstance(effect, Sleep):
            clock += effect.seconds
        else:
            assert isinstance(effect, HttpRequest)
            requests += 1
            record = DONE if clock >= duration else RUNNING
            reply = HttpResponse(200, (), QUIET if "/events/" in effect.target else record)
        effect = stepper.send(reply)
    return requests, clock


def simulated_wait(policy: PollPolicy, duration: float) -> tuple[int, float]:
    """Return the requests a `wait` makes on a job lasting `duration` s, and how late it sees
    the end."""
    config = ClientConfig(http=True, polling=policy)
    protocol = wait_protocol(config, "Logic", "txn-42", timeout_s=10 * duration)
    polls, ended = simulated(protocol, duration)
    return polls, ended - duration


def simulated_follow(policy: PollPolicy, duration: float) -> int:
    """Return the requests of following the events of a job that writes none for `duration` s."""
    config = ClientConfig(http=True, polling=policy)
    pager = EventsPager.open(config, "Logic", "txn-42", follow=True)
    return simulated(pager.next_page(), duration)[0]


def bench_polling() -> None:
    """Print what `wait` costs and how prompt it is, per policy, on simulated time."""
    sweep = [10 * 360 ** (i / 100) for i in range(101)]  # 10 s to 1 h, log-spaced
    fixed = {d: simulated_wait(POLICIES["every 0.5 s"], d)[0] for d in (30.0, 3600.0)}
    print("wait (poll_interval_s=0.5) on simulated time, jobs of 10 s to 1 h:")
    print(f"  {'policy':<22}{'requests at 30 s':>18}{'at 1 h':>14}{'worst delay':>13}{'mean':>7}")
    for name, policy in POLICIES.items():
        late = [simulated_wait(policy, d)[1] / d for d in sweep]
        counts = [simulated_wait(policy, d)[0] for d in fixed]
        cells = [f"{n} (1/{fixed[d] / n:.0f})" for n, d in zip(counts, fixed, strict=True)]
        print(
            f"  {name:<22}{cells[0]:>18}{cells[1]:>14}"
            f"{max(late):>12.0%} {statistics.mean(late):>6.1%}"
        )
    print("  (delay: how late the end is seen, as a share of the job's length)")
    before, after = (simulated_follow(POLICIES[p], 3600.0) for p in ("every 0.5 s", "default"))
    print(
        "iter_events(follow=True), a quiet 1-hour stream:"
        f" {before:,} requests every 0.5 s (as before), {after} now (1/{before / after:.0f})"
    )


def main() -> None:
    """Run every benchmark of the core and print the figures."""
    bench_get()
    bench_list()
    bench_polling()


if __name__ == "__main__":
    main()
