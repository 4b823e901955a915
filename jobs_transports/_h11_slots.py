"""The h11 pool's slots: at most N requests at once, served first come first served.

A slot is taken for a request's whole life and given back in a `finally`; the one wait in here is
for a slot, bounded by the pool timeout. A slot handed to a waiter that is cancelled at that very
moment passes on to the next waiter, so no cancellation can lose one. `close` fails every waiter.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Protocol

import httpcore
import outcome
import trio

from ._h11_exchange import POOL_CLOSED


class Slots(Protocol):
    """Counts the requests in flight and queues those over the limit."""

    free: int

    async def acquire(self, timeout: float | None) -> None:
        """Return once a slot is this caller's.

        Raises:
            httpcore.PoolTimeout: none came free within `timeout` seconds.
            httpcore.ConnectError: the pool was closed meanwhile.
        """
        ...

    def release(self) -> None:
        """Give a slot back: to the longest waiter, or to the free count."""
        ...

    def close(self) -> None:
        """Fail every waiter with `ConnectError`."""
        ...


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpcore.PoolTimeout())


class AsyncioSlots:
    """Slots under asyncio: a waiter is a future; a timeout is a timer that fails it."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self, timeout: float | None) -> None:
        if self.free and not self._waiters:
            self.free -= 1
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        except BaseException:
            # Cancelled after the slot was handed over: it goes to the next in line. A waiter that
            # failed or was cancelled stays queued, done, and `release` skips it.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1

    def close(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(httpcore.ConnectError(POOL_CLOSED))


class TrioSlots:
    """Slots under trio: a waiter is a parked task, woken with its outcome."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._waiters: collections.OrderedDict[trio.lowlevel.Task, None] = collections.OrderedDict()

    async def acquire(self, timeout: float | None) -> None:
        # A cancellation may end the call before the slot is taken, never after. A free slot is
        # taken without a trip through the scheduler (trio's Semaphore makes one): the request
        # makes that trip anyway when it waits for its response.
        await trio.lowlevel.checkpoint_if_cancelled()
        if self.free and not self._waiters:
            self.free -= 1
            return
        task = trio.lowlevel.current_task()
        self._waiters[task] = None

        def abort(_: object) -> trio.lowlevel.Abort:
            # Trio calls this only while the task is still parked: no slot was handed to it.
            del self._waiters[task]
            return trio.lowlevel.Abort.SUCCEEDED

        with trio.move_on_after(float("inf") if timeout is None else timeout):
            await trio.lowlevel.wait_task_rescheduled(abort)
            return
        raise httpcore.PoolTimeout()

    def release(self) -> None:
        if self._waiters:
            task, _ = self._waiters.popitem(last=False)
            trio.lowlevel.reschedule(task, outcome.Value(None))
            return
        self.free += 1

    def close(self) -> None:
        while self._waiters:
            task, _ = self._waiters.popitem(last=False)
            trio.lowlevel.reschedule(task, outcome.Error(httpcore.ConnectError(POOL_CLOSED)))
