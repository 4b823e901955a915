"""The async driver's connection pool under load, cancellation, deadlines and close.

Every test ends by checking the pool's books: all slots free, no request registered, at most
`max_connections` connections and none held.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import pytest
import trio

from jobs_core import HttpRequest, TransportError
from jobs_emulator import Emulator
from jobs_transports import Timeouts
from jobs_transports._h11_pool import H11Pool
from jobs_transports._h11_streams import AsyncioStream
from jobs_transports._http_executors import AsyncHttp
from jobs_transports._http_target import HttpTarget
from tests.drivers.reliability_fixtures import RUNTIMES, run_async
from tests.drivers.slow_server import SlowServer

BURST = 1_000
SLOTS = 10
TIMEOUTS = {"timeout": {"connect": 5.0, "read": 30.0, "write": 5.0, "pool": 60.0}}


def job_url(emu: Emulator) -> str:
    job_id = emu.engine.create_job("ML", "forecaster", {}, user="emulator_user")
    return f"{emu.base_url}/v1alpha1/jobs/ML/{job_id}"


def assert_books_balanced(pool: H11Pool) -> None:
    """Every slot back, nothing registered, no connection held."""
    assert pool._slots is not None
    assert pool._slots.free == SLOTS
    assert list(pool._requests) == []
    assert len(pool.connections) <= SLOTS
    assert all(connection.is_idle() for connection in pool.connections)


async def at_once(runtime: str, calls: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Runs `calls` concurrently; returns their results or exceptions, in order."""
    results: list[Any] = [None] * len(calls)

    async def one(index: int) -> None:
        try:
            results[index] = await calls[index]()
        except Exception as exc:
            results[index] = exc

    if runtime == "trio":
        async with trio.open_nursery() as nursery:
            for index in range(len(calls)):
                nursery.start_soon(one, index)
    else:
        await asyncio.gather(*(one(index) for index in range(len(calls))))
    return results


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_burst_of_1000_requests_through_10_connections_returns_every_slot(
    fresh_real_emu: Emulator, runtime: str
) -> None:
    url = job_url(fresh_real_emu)

    async def main() -> list[Any]:
        async with H11Pool(max_connections=SLOTS) as pool:
            calls = [lambda: pool.request("GET", url, extensions=TIMEOUTS)] * BURST
            responses = await at_once(runtime, calls)
            assert_books_balanced(pool)
            return responses

    responses = run_async(runtime, main)
    assert [getattr(r, "status", r) for r in responses] == [200] * BURST


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_burst_cancelled_midway_returns_every_slot(
    fresh_real_emu: Emulator, runtime: str
) -> None:
    """Half the burst is cancelled wherever each request happens to be: waiting for a slot,
    connecting, sending or reading; the pool then serves a request as before."""
    url = job_url(fresh_real_emu)

    async def main() -> None:
        async with H11Pool(max_connections=SLOTS) as pool:
            done = 0

            async def counted() -> Any:
                nonlocal done
                response = await pool.request("GET", url, extensions=TIMEOUTS)
                done += 1
                return response

            if runtime == "trio":
                async with trio.open_nursery() as nursery:
                    for _ in range(BURST):
                        nursery.start_soon(counted)
                    for _ in range(10_000):  # bounded: the burst takes far fewer steps
                        if done >= BURST // 2:
                            break
                        await trio.sleep(0.001)
                    nursery.cancel_scope.cancel()
            else:
                tasks = [asyncio.ensure_future(counted()) for _ in range(BURST)]
                for _ in range(10_000):
                    if done >= BURST // 2:
                        break
                    await asyncio.sleep(0.001)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            assert BURST // 2 <= done < BURST
            assert_books_balanced(pool)
            response = await pool.request("GET", url, extensions=TIMEOUTS)
            assert response.status == 200
            assert_books_balanced(pool)

    run_async(runtime, main)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_deadline_caps_the_whole_request(fresh_real_emu: Emulator, runtime: str) -> None:
    url = job_url(fresh_real_emu)
    fresh_real_emu.faults.delay(2.0, method="GET", times=None)

    async def main() -> tuple[BaseException | None, float]:
        async with H11Pool(max_connections=SLOTS) as pool:
            now = trio.current_time if runtime == "trio" else asyncio.get_running_loop().time
            started = now()
            extensions = {**TIMEOUTS, "limit": 0.3}
            (outcome,) = await at_once(
                runtime, [lambda: pool.request("GET", url, extensions=extensions)]
            )
            elapsed = now() - started
            assert_books_balanced(pool)
            return outcome, elapsed

    outcome, elapsed = run_async(runtime, main)
    assert isinstance(outcome, httpcore.ReadTimeout)
    assert 0.25 <= elapsed < 1.5


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_close_fails_the_requests_in_flight_and_those_waiting_for_a_slot(
    fresh_real_emu: Emulator, runtime: str
) -> None:
    url = job_url(fresh_real_emu)
    fresh_real_emu.faults.delay(5.0, method="GET", times=None)

    async def main() -> list[Any]:
        pool = H11Pool(max_connections=SLOTS)
        results: list[Any] = []

        async def closer() -> None:
            for _ in range(1_000):  # until every request is in flight or queued
                if len(pool._requests) == SLOTS + 2 and len(pool.connections) == SLOTS:
                    break
                await (trio.sleep(0.005) if runtime == "trio" else asyncio.sleep(0.005))
            await pool.aclose()

        calls = [lambda: pool.request("GET", url, extensions=TIMEOUTS)] * (SLOTS + 2)
        results = await at_once(runtime, [*calls, closer])
        assert list(pool._requests) == []
        assert pool.connections == []
        with pytest.raises(httpcore.ConnectError, match="closed"):
            await pool.request("GET", url)
        return results[:-1]

    results = run_async(runtime, main)
    assert all(isinstance(r, httpcore.ReadError | httpcore.ConnectError) for r in results), results
    assert sum(isinstance(r, httpcore.ConnectError) for r in results) == 2  # the queued ones


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_executor_bounds_an_exchange_by_the_time_left(
    fresh_real_emu: Emulator, runtime: str
) -> None:
    """What the async driver hands `AsyncHttp.send` as `time_left` caps the whole exchange."""
    path = job_url(fresh_real_emu).removeprefix(fresh_real_emu.base_url)
    fresh_real_emu.faults.delay(2.0, method="GET", times=None)
    http = AsyncHttp(HttpTarget.of(fresh_real_emu.base_url, None, Timeouts()))

    async def main() -> BaseException | None:
        try:
            (outcome,) = await at_once(
                runtime, [lambda: http.send(HttpRequest("GET", path), time_left=0.3)]
            )
            return outcome if isinstance(outcome, BaseException) else None
        finally:
            await http.aclose()

    outcome = run_async(runtime, main)
    assert isinstance(outcome, TransportError)
    assert outcome.timeout


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_request_to_another_origin_keeps_the_idle_connections_of_the_first(
    fresh_real_emu: Emulator, module_real_emu: Emulator, runtime: str
) -> None:
    """A request to a second origin (a token exchange at the account's host) neither reuses nor
    closes the connections idle for the first; the pool still never holds more than
    `max_connections` open."""
    first, second = job_url(fresh_real_emu), job_url(module_real_emu)

    async def main() -> None:
        async with H11Pool(max_connections=2) as pool:
            await at_once(runtime, [lambda: pool.request("GET", first, extensions=TIMEOUTS)] * 2)
            kept = list(pool.connections)
            assert len(kept) == 2
            response = await pool.request("GET", second, extensions=TIMEOUTS)
            assert response.status == 200
            # One connection to the first origin made room for the second's, and only one.
            assert len(pool.connections) == 2
            assert sum(c in kept for c in pool.connections) == 1
            survivor = next(c for c in pool.connections if c in kept)
            response = await pool.request("GET", first, extensions=TIMEOUTS)
            assert response.status == 200
            assert survivor in pool.connections
            assert survivor.is_idle()
            ports = {urlsplit(first).port, urlsplit(second).port}
            assert {c.origin[2] for c in pool.connections} == ports

    run_async(runtime, main)


BIG_BODY = b'{"payload": "' + b"x" * (32 << 20) + b'"}'
"""More than the loopback's socket buffers hold: a send that has to wait for the reader."""


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_body_larger_than_the_socket_buffers_is_sent_whole(
    fresh_real_emu: Emulator, runtime: str
) -> None:
    url = f"{fresh_real_emu.base_url}/v1alpha1/jobs"

    async def main() -> None:
        async with H11Pool(max_connections=SLOTS) as pool:
            response = await pool.request("POST", url, content=BIG_BODY, extensions=TIMEOUTS)
            assert 200 <= response.status < 500  # answered, whatever it made of the payload
            assert_books_balanced(pool)

    run_async(runtime, main)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_body_the_server_does_not_read_ends_at_the_write_timeout(
    silent_server: SlowServer, runtime: str
) -> None:
    extensions = {"timeout": {**TIMEOUTS["timeout"], "write": 0.3}}

    async def main() -> None:
        async with H11Pool(max_connections=SLOTS) as pool:
            with pytest.raises(httpcore.WriteTimeout):
                await pool.request(
                    "POST", silent_server.url, content=BIG_BODY, extensions=extensions
                )
            assert_books_balanced(pool)
            assert pool.connections == []  # a connection left mid-request is never reused

    run_async(runtime, main)


def test_closing_a_stream_whose_transport_asyncio_already_closed_is_harmless() -> None:
    # A server that answers early, shuts its side and then drains the upload: asyncio closes the
    # transport once its write buffer empties, and aborting it after that failed inside asyncio
    # (an AttributeError, not a transport error) when the pool closed the connection.
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            host, port = listener.getsockname()
            stream = await AsyncioStream.connect(host, port, None, 5.0)
            server, _ = await asyncio.get_running_loop().run_in_executor(None, listener.accept)
            with server:
                # More than the kernel buffers hold: the rest waits in asyncio's write buffer.
                sending = asyncio.ensure_future(stream.send(b"x" * (8 << 20), 5.0))
                await asyncio.sleep(0.05)
                server.shutdown(socket.SHUT_WR)  # asyncio closes the transport, once flushed
                await asyncio.sleep(0.05)
                await asyncio.get_running_loop().run_in_executor(None, drain, server)
                await sending  # the buffer drained: asyncio lets go of the transport next
                await asyncio.sleep(0.05)
            stream.close()
            with pytest.raises(httpcore.WriteError):
                await stream.send(b"more", 1.0)

    asyncio.run(scenario())


def drain(connection: socket.socket) -> None:
    connection.settimeout(5.0)
    while connection.recv(1 << 20):
        pass


POOL_TIMEOUTS_S = (0.6, 0.3, 0.9, 0.3, 0.6, 0.3)
"""The pool timeouts of the requests queued behind the held slots, in the order they queue: a
later one may run out first."""
LATE_S = 0.5
"""How late a pool timeout may end, on a loaded machine."""


def waiting_for_a_slot(timeout: float) -> dict[str, Any]:
    return {"timeout": {"connect": 5.0, "read": 10.0, "write": 5.0, "pool": timeout}}


@pytest.mark.parametrize("cancelled", [None, 0, 2], ids=["none", "the-first", "the-third"])
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_requests_waiting_for_a_slot_end_at_their_own_pool_timeout(
    silent_server: SlowServer, runtime: str, cancelled: int | None
) -> None:
    # Two requests hold the slots (the server never answers); the others queue, each with its
    # own pool timeout, and one of them may be cancelled meanwhile: every other one still ends
    # with `PoolTimeout`, neither early nor much later than its own timeout.
    url = f"{silent_server.url}/v1alpha1/jobs/ML/j1"

    async def main() -> tuple[list[Any], list[float]]:
        clock = trio.current_time if runtime == "trio" else asyncio.get_running_loop().time
        async with H11Pool(max_connections=2) as pool:
            holding = [lambda: pool.request("GET", url, extensions=waiting_for_a_slot(5.0))] * 2
            ended = [0.0] * len(POOL_TIMEOUTS_S)
            started = clock()

            async def wait_for_a_slot(index: int) -> Any:
                await sleep(runtime, 0.05 + 0.01 * index)  # queue in order, behind the holders
                try:
                    return await pool.request(
                        "GET", url, extensions=waiting_for_a_slot(POOL_TIMEOUTS_S[index])
                    )
                finally:
                    ended[index] = clock() - started - 0.05 - 0.01 * index

            async def cancel_one() -> None:
                await sleep(runtime, 0.2)  # every request queued by now
                assert cancelled is not None
                scopes[cancelled].cancel()

            scopes = [anyio.CancelScope() for _ in POOL_TIMEOUTS_S]

            def scoped(index: int) -> Callable[[], Awaitable[Any]]:
                async def call() -> Any:
                    with scopes[index]:
                        return await wait_for_a_slot(index)
                    return "cancelled"

                return call

            waiters = [scoped(index) for index in range(len(POOL_TIMEOUTS_S))]
            extra = [] if cancelled is None else [cancel_one]
            async with anyio.create_task_group() as holders_group:
                for hold in holding:
                    holders_group.start_soon(swallow, hold)
                results = await at_once(runtime, [*waiters, *extra])
                holders_group.cancel_scope.cancel()
            assert_pool_empty(pool)
            return results[: len(POOL_TIMEOUTS_S)], ended

    results, ended = run_async(runtime, main)
    for index, (result, timeout) in enumerate(zip(results, POOL_TIMEOUTS_S, strict=True)):
        if index == cancelled:
            assert result == "cancelled"
            continue
        assert isinstance(result, httpcore.PoolTimeout), (index, result)
        assert timeout - 0.05 <= ended[index] < timeout + LATE_S, (index, ended[index])


async def swallow(call: Callable[[], Awaitable[Any]]) -> None:
    with contextlib.suppress(Exception):
        await call()


async def sleep(runtime: str, seconds: float) -> None:
    await (trio.sleep(seconds) if runtime == "trio" else asyncio.sleep(seconds))


def assert_pool_empty(pool: H11Pool, slots: int = 2) -> None:
    assert pool._slots is not None
    assert pool._slots.free == slots
    assert list(pool._requests) == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_requests_still_waiting_end_at_their_pool_timeout_after_the_first_is_served(
    silent_server: SlowServer, runtime: str
) -> None:
    # One slot. Its holder gives up after 0.3 s (read timeout); the first waiter then takes the
    # slot and hangs for 5 s; the three behind it must still end at their own 0.8 s, not when
    # the slot next comes free (under trio, the first waiter was the one watching the clock).
    url = f"{silent_server.url}/v1alpha1/jobs/ML/j1"

    def limits(pool_s: float, read_s: float) -> dict[str, Any]:
        return {"timeout": {"connect": 5.0, "read": read_s, "write": 5.0, "pool": pool_s}}

    async def main() -> tuple[list[Any], list[float]]:
        clock = trio.current_time if runtime == "trio" else asyncio.get_running_loop().time
        async with H11Pool(max_connections=1) as pool:
            started = clock()
            ended: list[float] = []

            def queued(index: int, pool_s: float, read_s: float) -> Callable[[], Awaitable[Any]]:
                async def call() -> Any:
                    await sleep(runtime, 0.02 * index)  # in this order
                    try:
                        return await pool.request("GET", url, extensions=limits(pool_s, read_s))
                    finally:
                        ended.append(clock() - started)

                return call

            calls = [queued(0, 5.0, 0.3), queued(1, 5.0, 5.0)]
            calls += [queued(index, 0.8, 5.0) for index in range(2, 5)]
            first_four: list[Any] = []

            async def all_but_the_hanging_one() -> None:
                first_four.extend(await at_once(runtime, [calls[0], *calls[2:]]))
                nursery_scope.cancel()  # stop the one holding the slot for 5 s

            with anyio.CancelScope() as nursery_scope:
                async with anyio.create_task_group() as group:
                    group.start_soon(swallow, calls[1])
                    group.start_soon(all_but_the_hanging_one)
            assert_pool_empty(pool, slots=1)
            return first_four, sorted(ended)

    results, ended = run_async(runtime, main)
    assert isinstance(results[0], httpcore.ReadTimeout), results[0]
    assert all(isinstance(result, httpcore.PoolTimeout) for result in results[1:]), results
    assert max(ended) < 0.8 + 0.08 + LATE_S, ended  # the last queued at 0.08 s
