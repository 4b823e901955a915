"""The sync driver's connection pool under a burst of threads, a deadline and close (TLS: in
`test_h11_pool_tls`).

Every test ends by checking the pool's books: all slots free, no request registered, at most
`max_connections` connections and none held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpcore
import pytest

from jobs_emulator import Emulator
from jobs_transports._h11_blocking import BlockingPool
from tests.drivers.test_h11_pool import TIMEOUTS, job_url

SLOTS = 10
THREADS = 40
BURST = 400


def assert_books_balanced(pool: BlockingPool, slots: int = SLOTS) -> None:
    """Every slot back, nothing registered, no connection held."""
    assert pool._slots.free == slots
    assert list(pool._requests) == []
    assert len(pool.connections) <= slots
    assert all(connection.is_idle() for connection in pool.connections)


def in_threads(calls: Sequence[Callable[[], Any]], threads: int) -> list[Any]:
    """Runs `calls` on `threads` threads; returns their results or exceptions, in order."""

    def one(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=threads) as executor:
        return list(executor.map(one, calls))


def test_a_burst_from_40_threads_through_10_connections_returns_every_slot(
    fresh_real_emu: Emulator,
) -> None:
    url = job_url(fresh_real_emu)
    with BlockingPool(max_connections=SLOTS) as pool:
        calls = [lambda: pool.request("GET", url, extensions=TIMEOUTS)] * BURST
        responses = in_threads(calls, THREADS)
        assert_books_balanced(pool)
    assert [getattr(r, "status", r) for r in responses] == [200] * BURST


def test_a_limit_caps_the_whole_request_and_closes_its_connection(
    fresh_real_emu: Emulator,
) -> None:
    url = job_url(fresh_real_emu)
    fresh_real_emu.faults.delay(5.0, method="GET", times=1)
    with BlockingPool(max_connections=SLOTS) as pool:
        started = time.monotonic()
        with pytest.raises(httpcore.ReadTimeout):
            pool.request("GET", url, extensions={**TIMEOUTS, "limit": 0.3})
        assert 0.25 <= time.monotonic() - started < 2.5
        assert pool.connections == []  # a half-read connection is never reused
        assert pool.request("GET", url, extensions=TIMEOUTS).status == 200
        assert_books_balanced(pool)


def test_close_from_another_thread_fails_the_requests_in_flight_and_those_waiting(
    fresh_real_emu: Emulator,
) -> None:
    url = job_url(fresh_real_emu)
    fresh_real_emu.faults.delay(5.0, method="GET", times=None)
    pool = BlockingPool(max_connections=SLOTS)

    def closer() -> None:
        for _ in range(1_000):  # until every request is in flight or queued
            if len(pool._requests) == SLOTS + 2 and len(pool.connections) == SLOTS:
                break
            time.sleep(0.005)
        pool.close()

    closing = threading.Thread(target=closer)
    closing.start()
    started = time.monotonic()
    calls = [lambda: pool.request("GET", url, extensions=TIMEOUTS)] * (SLOTS + 2)
    results = in_threads(calls, SLOTS + 2)
    closing.join(timeout=10)
    assert time.monotonic() - started < 4.0  # stopped by the close, not by the server
    assert all(
        isinstance(r, httpcore.ReadError | httpcore.RemoteProtocolError | httpcore.ConnectError)
        for r in results
    ), results
    assert sum(isinstance(r, httpcore.ConnectError) for r in results) == 2  # the queued ones
    assert list(pool._requests) == []
    assert pool.connections == []
    with pytest.raises(httpcore.ConnectError, match="closed"):
        pool.request("GET", url)


def test_a_request_to_another_origin_keeps_the_idle_connections_of_the_first(
    fresh_real_emu: Emulator, module_real_emu: Emulator
) -> None:
    first, second = job_url(fresh_real_emu), job_url(module_real_emu)
    # Slow answers keep both requests in flight at once, so each needs its own connection.
    fresh_real_emu.faults.delay(0.3, times=2)
    with BlockingPool(max_connections=2) as pool:
        in_threads([lambda: pool.request("GET", first, extensions=TIMEOUTS)] * 2, 2)
        kept = list(pool.connections)
        assert len(kept) == 2
        assert pool.request("GET", second, extensions=TIMEOUTS).status == 200
        # One connection to the first origin made room for the second's, and only one.
        assert len(pool.connections) == 2
        assert sum(c in kept for c in pool.connections) == 1
        survivor = next(c for c in pool.connections if c in kept)
        assert pool.request("GET", first, extensions=TIMEOUTS).status == 200
        assert survivor in pool.connections
        assert survivor.is_idle()
        ports = {urlsplit(first).port, urlsplit(second).port}
        assert {c.origin[2] for c in pool.connections} == ports
        assert_books_balanced(pool, slots=2)
