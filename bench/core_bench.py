"""What the pure core costs: building and parsing a `get`, and parsing a 10,000-job list.

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

from jobs_core import ClientConfig, HttpRequest, Now, PollPolicy, Sleep, Stepper
from jobs_core import _http_dialect as http
from jobs_core import wait as wait_protocol
from jobs_core._effects import HttpResponse
from jobs_core._reasoners import ReasonerType

REPEATS = 7
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


def median_seconds(action: Callable[[], object], loops: int) -> float:
    """Return the median over `REPEATS` runs of the time one call of `action` takes."""
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(loops):
            action()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


def report(name: str, seconds: float, baseline: float, unit: str) -> None:
    """Print one figure, in `unit` (µs or ms), with its ratio to the `json.loads` baseline."""
    scale = 1e6 if unit == "µs" else 1e3
    print(
        f"{name:<44} {seconds * scale:>9.2f} {unit}"
        f"   json.loads {baseline * scale:>8.2f} {unit}   ratio {seconds / baseline:>5.1f}x"
    )


def bench_get(kind: ReasonerType, body: bytes) -> None:
    """Time `build_get` + `parse_get` of one record against `json.loads` of its body."""
    response = HttpResponse(200, (("Content-Type", "application/json"),), body)

    def get() -> object:
        http.build_get(kind, "01b2c3d4-0000-4000-8000-000000000001")
        return http.parse_get(kind, response)

    loops = 20_000
    baseline = median_seconds(lambda: json.loads(body), loops)
    report(f"get {kind.value}: build + parse", median_seconds(get, loops), baseline, "µs")


def bench_list() -> None:
    """Time parsing a 10,000-job list body into records, and into `Job`s."""
    body = json.dumps({"jobs": [job_object(i) for i in range(LIST_SIZE)]}).encode()
    response = HttpResponse(200, (), body)
    kind = ReasonerType.PREDICTIVE
    wanted = len(http.parse_list(kind, response))
    baseline = median_seconds(lambda: json.loads(body), 1)
    records = median_seconds(lambda: http.parse_list(kind, response), 1)
    jobs = median_seconds(lambda: [r.to_job() for r in http.parse_list(kind, response)], 1)
    print(f"list of {LIST_SIZE:,} jobs ({len(body) / 1e6:.1f} MB, {wanted:,} of the asked type):")
    report("  parse_list -> JobRecords", records, baseline, "ms")
    report("  parse_list -> Jobs", jobs, baseline, "ms")
    print(f"  per record kept: {records / wanted * 1e6:.2f} µs")


POLICIES = {
    "default": PollPolicy(),
    "before (x1.5 to 5 s)": PollPolicy(factor=1.5, max_interval_s=5.0, fraction=0.0),
    "every 0.5 s": PollPolicy(factor=1.0, fraction=0.0),
}


def simulated_wait(policy: PollPolicy, duration: float) -> tuple[int, float]:
    """Return the requests a `wait` makes on a job lasting `duration` s, and how late it sees
    the end, on a fake clock that moves only when the protocol sleeps."""
    running = json.dumps({"transaction": {**TRANSACTION, "state": "RUNNING"}}).encode()
    done = json.dumps({"transaction": TRANSACTION}).encode()
    config = ClientConfig(http=True, polling=policy)
    stepper = Stepper(wait_protocol(config, "Logic", "txn-42", timeout_s=10 * duration))
    clock, polls = 0.0, 0
    effect = stepper.start()
    while effect is not None:
        reply: object = None
        if isinstance(effect, Now):
            reply = clock
        elif isinstance(effect, Sleep):
            clock += effect.seconds
        else:
            assert isinstance(effect, HttpRequest)
            polls += 1
            reply = HttpResponse(200, (), done if clock >= duration else running)
        effect = stepper.send(reply)
    return polls, clock - duration


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


def main() -> None:
    """Run every benchmark of the core and print the figures."""
    bench_get(ReasonerType.PREDICTIVE, json.dumps({"job": job_object(1)}).encode())
    bench_get(ReasonerType.LOGIC, json.dumps({"transaction": TRANSACTION}).encode())
    bench_list()
    bench_polling()


if __name__ == "__main__":
    main()
