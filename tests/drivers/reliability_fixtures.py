"""Helpers for the cancellation and fault tests.

`cancel_at_step` runs calls concurrently and cancels some of them at the n-th step of the group:
a step is one run of one of their tasks between two suspensions, helper tasks included (asyncio
tasks the call spawns, trio tasks in its nurseries). Walking n = 1, 2, ... until nothing is
cancelled any more delivers a cancellation at every point where the calls can be suspended:
connecting, sending, receiving, sleeping, waiting for a worker thread or a pool slot.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from typing import Any, Literal, TypeVar

import attrs
import httpcore
import trio

from jobs_core import RetryPolicy
from jobs_transports._h11_blocking import BlockingPool
from jobs_transports._h11_pool import H11Pool

T = TypeVar("T")

RUNTIMES = ("asyncio", "trio")
FAST_RETRY = RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05)
MAX_STEPS = 400
"""More steps than any call walked here takes; reaching it means the walk never ends."""

Mode = Literal["blocked", "runnable"]
"""When the cancellation arrives: while the task is suspended at its n-th step ("blocked"), or
once it was woken and before it runs again ("runnable", trio only: asyncio has no such window,
its cancellation is always thrown in at the suspension point)."""


def run_async(runtime: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs `main()` under `runtime` ("asyncio" or "trio"); returns its result."""
    if runtime == "trio":
        return trio.run(main)
    return asyncio.run(main())


@attrs.frozen
class Finished:
    """How one call of a group ended."""

    cancelled: bool
    value: Any = None
    error: BaseException | None = None

    def unwrap(self) -> Any:
        """Returns the call's value.

        Raises what the call raised, or `AssertionError` if it was cancelled.
        """
        assert not self.cancelled, "the call was cancelled"
        if self.error is not None:
            raise self.error
        return self.value


@attrs.frozen
class Round:
    """What one `cancel_at_step` round did: whether the cancellation fired, and each outcome."""

    fired: bool
    outcomes: list[Finished]


async def cancel_at_step(
    runtime: str,
    calls: Sequence[Callable[[], Awaitable[Any]]],
    n: int,
    *,
    victims: Sequence[int] | None = None,
    mode: Mode = "blocked",
) -> Round:
    """Runs `calls` concurrently and cancels `victims` (indexes, default all) at step `n`.

    Returns the round; the calls' exceptions are caught into their outcomes.
    """
    chosen = range(len(calls)) if victims is None else victims
    if runtime == "trio":
        return await _trio_round(calls, n, chosen, mode)
    return await _asyncio_round(calls, n, chosen)


class _Counted(Coroutine[Any, Any, T]):
    """A task's coroutine that calls `on_suspend` each time it suspends the task.

    A coroutine object itself rather than an ``async def`` wrapper, so that a task cancelled
    before it ever ran closes the call's coroutine as asyncio would, instead of leaving it
    never awaited.
    """

    def __init__(self, coro: Coroutine[Any, Any, T], on_suspend: Callable[[], None]) -> None:
        self._coro = coro
        self._on_suspend = on_suspend

    def send(self, value: Any) -> Any:
        yielded = self._coro.send(value)
        self._on_suspend()
        return yielded

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        yielded = self._coro.throw(typ) if val is None else self._coro.throw(typ, val, tb)
        self._on_suspend()
        return yielded

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, Any, T]:
        return self._coro.__await__()

    def __getattr__(self, name: str) -> Any:
        # Introspection (anyio reads `cr_running` and `cr_frame`) sees the call's coroutine.
        return getattr(self._coro, name)


async def _asyncio_round(
    calls: Sequence[Callable[[], Awaitable[Any]]], n: int, victims: Sequence[int]
) -> Round:
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Future[Any]] = []
    steps = 0
    fired = False

    def on_suspend() -> None:
        nonlocal steps, fired
        steps += 1
        if steps == n:
            fired = True
            for index in victims:
                tasks[index].cancel()

    def factory(
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
    ) -> asyncio.Future[Any]:
        assert isinstance(coro, Coroutine)
        return asyncio.Task(_Counted(coro, on_suspend), loop=loop)

    async def call_coro(call: Callable[[], Awaitable[Any]]) -> Any:
        return await call()

    # Every task created meanwhile is counted: the calls' own and those they spawn.
    previous = loop.get_task_factory()
    loop.set_task_factory(factory)
    try:
        tasks.extend(asyncio.ensure_future(call_coro(call)) for call in calls)
        await asyncio.wait(tasks)
    finally:
        loop.set_task_factory(previous)
    return Round(fired, [_asyncio_outcome(task) for task in tasks])


def _asyncio_outcome(task: asyncio.Future[Any]) -> Finished:
    if task.cancelled():
        return Finished(cancelled=True)
    error = task.exception()
    return Finished(cancelled=False, value=None if error else task.result(), error=error)


class _StepCounter(trio.abc.Instrument):
    """Counts the steps of the tasks under one nursery and cancels the victims at step `n`."""

    def __init__(self, n: int, mode: Mode, cancel: Callable[[], None]) -> None:
        self.nursery: trio.Nursery | None = None
        self.fired = False
        self._n = n
        self._mode = mode
        self._cancel = cancel
        self._steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if self._mode == "runnable":
            self._count(task)

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        if self._mode == "blocked":
            self._count(task)

    def _count(self, task: trio.lowlevel.Task) -> None:
        if not self._in_group(task):
            return
        self._steps += 1
        if self._steps == self._n:
            self.fired = True
            self._cancel()

    def _in_group(self, task: trio.lowlevel.Task | None) -> bool:
        while task is not None:
            parent = task.parent_nursery
            if parent is None:
                return False
            if parent is self.nursery:
                return True
            task = parent.parent_task
        return False


async def _trio_round(
    calls: Sequence[Callable[[], Awaitable[Any]]], n: int, victims: Sequence[int], mode: Mode
) -> Round:
    scopes = [trio.CancelScope() for _ in calls]
    outcomes: list[Finished] = [Finished(cancelled=True) for _ in calls]

    def cancel() -> None:
        for index in victims:
            scopes[index].cancel()

    async def run_one(index: int, call: Callable[[], Awaitable[Any]]) -> None:
        try:
            with scopes[index]:
                outcomes[index] = Finished(cancelled=False, value=await call())
        except Exception as exc:
            outcomes[index] = Finished(cancelled=False, error=exc)

    counter = _StepCounter(n, mode, cancel)
    trio.lowlevel.add_instrument(counter)
    try:
        async with trio.open_nursery() as nursery:
            counter.nursery = nursery
            for index, call in enumerate(calls):
                nursery.start_soon(run_one, index, call)
    finally:
        trio.lowlevel.remove_instrument(counter)
    return Round(counter.fired, outcomes)


def pool_leftovers(
    pool: httpcore.AsyncConnectionPool | BlockingPool | H11Pool,
) -> list[str]:
    """Returns what calls that ended left in `pool`: registered requests, busy connections.

    Between calls a pool holds no request, and each connection is idle or closed; anything else
    keeps a slot that no later request can use.
    """
    left = [f"request for {request.request.url}" for request in pool._requests]
    left += [repr(c) for c in pool.connections if not (c.is_idle() or c.is_closed())]
    return left


def assert_no_stray_tasks(runtime: str) -> None:
    """Asserts that, under asyncio, the calling task is the only one left."""
    if runtime == "asyncio":
        assert asyncio.all_tasks() == {asyncio.current_task()}


def busy_threads(baseline: set[threading.Thread], *, within_s: float = 5.0) -> list[str]:
    """Returns the threads started since `baseline` still busy after up to `within_s` seconds.

    Trio keeps finished worker threads for a while to reuse them; an idle one carries its
    default name, "Trio thread N", so it does not count.
    """
    deadline = time.monotonic() + within_s
    while True:
        busy = [
            t.name
            for t in threading.enumerate()
            if t not in baseline and not t.name.startswith("Trio thread ")
        ]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.01)


def eventually(check: Callable[[], bool], *, within_s: float = 5.0) -> bool:
    """Return True once `check()` holds, polling for up to `within_s` (the emulator's thread
    may count a request a little after the client gave up on it); False if it never does."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
