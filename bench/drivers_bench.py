"""What the drivers cost: `get` round trips per second against bare httpcore, and CPU per call.

For each driver (sync, asyncio, trio) the client's `get("Predictive", id)` and the same request
made with bare httpcore (`ConnectionPool`, or `AsyncConnectionPool` under the same event loop;
same URL, same headers, one keep-alive connection) are timed in the same run, interleaved over a
few rounds; the best round of each is printed with the ratio client / bare. The emulator runs in
a child process, so the process CPU time per call (`time.process_time`) is the client side's
alone; the difference with bare httpcore is what the driver and the core add. The core's own
share is measured without I/O: a `Stepper` runs the `get` protocol fed a recorded response.
Run with ``python -m bench.drivers_bench [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpcore
import trio

from bench.emulator_get import emulator
from jobs_core import ClientConfig, HttpRequest, HttpResponse, Stepper
from jobs_core import get as get_protocol
from jobs_transports import connect, connect_sync

RUNTIMES = ("asyncio", "trio")


@attrs.frozen
class Figure:
    """One measurement: calls per wall-clock second, and process CPU µs per call."""

    rate: float
    cpu_us: float

    @classmethod
    def of(cls, calls: int, wall_s: float, cpu_s: float) -> Figure:
        """Returns the figure of `calls` calls that took `wall_s` and `cpu_s` seconds."""
        return cls(calls / wall_s, cpu_s / calls * 1e6)


def best(figures: list[Figure]) -> Figure:
    """Returns the fastest round (the one least disturbed by the rest of the machine)."""
    return max(figures, key=lambda figure: figure.rate)


def timed(calls: int, call: Callable[[], object]) -> Figure:
    """Returns the figure of `calls` blocking calls of `call`."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        call()
    return Figure.of(calls, time.perf_counter() - wall, time.process_time() - cpu)


async def timed_async(calls: int, call: Callable[[], Awaitable[object]]) -> Figure:
    """Returns the figure of `calls` awaited calls of `call`."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        await call()
    return Figure.of(calls, time.perf_counter() - wall, time.process_time() - cpu)


@attrs.frozen
class Target:
    """What every measurement reads: the job, its URL and the headers the client sends."""

    base_url: str
    job_id: str
    request: HttpRequest

    @property
    def url(self) -> str:
        """The absolute URL of the get."""
        return self.base_url + self.request.target

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The client's headers for the get."""
        return list(self.request.headers)


def first_request(config: ClientConfig, job_id: str) -> HttpRequest:
    """Returns the request the core makes for the get."""
    effect = Stepper(get_protocol(config, "Predictive", job_id)).start()
    assert isinstance(effect, HttpRequest)
    return effect


def sync_round(target: Target, calls: int) -> tuple[Figure, Figure]:
    """Returns the sync client's figure and bare httpcore's."""
    with connect_sync(base_url=target.base_url, max_connections=1) as client:
        client.get("Predictive", target.job_id)
        ours = timed(calls, lambda: client.get("Predictive", target.job_id))
    with httpcore.ConnectionPool(max_connections=1) as pool:

        def bare() -> object:
            return pool.request("GET", target.url, headers=target.headers).content

        bare()
        theirs = timed(calls, bare)
    return ours, theirs


async def async_round(target: Target, calls: int) -> tuple[Figure, Figure]:
    """Returns the async client's figure and bare httpcore's, under the running loop."""
    async with connect(base_url=target.base_url, max_connections=1) as client:
        await client.get("Predictive", target.job_id)
        ours = await timed_async(calls, lambda: client.get("Predictive", target.job_id))
    async with httpcore.AsyncConnectionPool(max_connections=1) as pool:

        async def bare() -> object:
            return (await pool.request("GET", target.url, headers=target.headers)).content

        await bare()
        theirs = await timed_async(calls, bare)
    return ours, theirs


def run_round(driver: str, target: Target, calls: int) -> tuple[Figure, Figure]:
    """Returns `driver`'s figure and bare httpcore's for one round."""
    if driver == "sync":
        return sync_round(target, calls)
    if driver == "trio":
        return trio.run(async_round, target, calls)
    return asyncio.run(async_round(target, calls))


def core_cpu_us(config: ClientConfig, job_id: str, response: HttpResponse, calls: int) -> float:
    """Returns the CPU µs one `get` protocol takes, from first effect to result, without I/O."""

    def one() -> Any:
        stepper = Stepper(get_protocol(config, "Predictive", job_id))
        effect = stepper.start()
        while effect is not None:
            assert isinstance(effect, HttpRequest)
            effect = stepper.send(response)
        return stepper.result

    one()
    return timed(calls, one).cpu_us


def record_response(target: Target) -> HttpResponse:
    """Returns the emulator's answer to the get, as the drivers hand it to the core."""
    with httpcore.ConnectionPool() as pool:
        raw = pool.request("GET", target.url, headers=target.headers)
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers)
    return HttpResponse(raw.status, headers, raw.content)


def main(argv: list[str] | None = None) -> None:
    """Prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.drivers_bench", description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="gets per figure and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per driver")
    args = parser.parse_args(argv)
    with emulator(in_process=False) as (host, port):
        base_url = f"http://{host}:{port}"
        with connect_sync(base_url=base_url) as client:
            job_id = client.create("Predictive", "bench", {}).id
            config = client.config
        target = Target(base_url, job_id, first_request(config, job_id))
        print(
            f"get round trips on one keep-alive connection, emulator in a child process"
            f" ({args.calls} calls per figure, best of {args.rounds} rounds)"
        )
        print(
            f"  {'driver':<8}{'client':>10}{'httpcore':>10}{'ratio':>8}"
            f"{'client CPU':>13}{'httpcore CPU':>14}{'added':>10}"
        )
        for driver in ("sync", *RUNTIMES):
            rounds = [run_round(driver, target, args.calls) for _ in range(args.rounds)]
            ours = best([pair[0] for pair in rounds])
            theirs = best([pair[1] for pair in rounds])
            ratio = ours.rate / theirs.rate
            print(
                f"  {driver:<8}{ours.rate:>7.0f}/s {theirs.rate:>7.0f}/s{ratio:>7.2f}x"
                f"{ours.cpu_us:>10.0f} µs{theirs.cpu_us:>11.0f} µs"
                f"{ours.cpu_us - theirs.cpu_us:>7.0f} µs"
            )
        core = core_cpu_us(config, job_id, record_response(target), args.calls * 2)
        print(f"  core protocol alone (build + parse, no I/O): {core:.1f} µs CPU per get")


if __name__ == "__main__":
    main()
