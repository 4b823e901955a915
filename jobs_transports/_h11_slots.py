"""The h11 pool's slots: at most N requests at once, served first come first served.

A slot is taken for a request's whole life and given back in a `finally`; the one wait in here is
for a slot, bounded by the pool timeout. A slot handed to a waiter that is cancelled at that very
moment passes on to the next waiter, so no cancellation can lose one. `close` fails every waiter.
"""

from __future__ import annotations

import asyncio
import collections
import math
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


class _Waiter:
    """A task waiting for a slot under trio: until when, whether it is parked, and what it was
    handed while it was not (a waiter woken to go on duty is briefly awake in the queue)."""

    __slots__ = ("deadline", "handed", "parked", "task")

    def __init__(self, task: trio.lowlevel.Task, deadline: float) -> None:
        self.task = task
        self.deadline = deadline
        self.parked = False
        self.handed: outcome.Outcome[None] | None = None


class TrioSlots:
    """Slots under trio: a waiter is a parked task, woken with its outcome.

    Pool timeouts without a cancel scope per waiter: in a burst of 1,000 requests through 10
    connections, a scope with a deadline around each of the 990 parked tasks cost 20-40 µs of CPU
    per request (measured by leaving it out). One waiter at a time is on duty: it parks inside a
    cancel scope whose deadline is the earliest of every waiter's, and when that fires it fails
    each waiter whose time is up, then parks again unless it is one of them. When the waiter on
    duty leaves, the newest one takes over (woken once to enter its scope): it will be served
    last, so duty seldom moves.
    """

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._waiters: collections.OrderedDict[trio.lowlevel.Task, _Waiter] = (
            collections.OrderedDict()
        )
        self._on_duty: _Waiter | None = None
        self._duty_scope: trio.CancelScope | None = None
        self._closed = False

    async def acquire(self, timeout: float | None) -> None:
        # A cancellation may end the call before the slot is taken, never after. A free slot is
        # taken without a trip through the scheduler (trio's Semaphore makes one): the request
        # makes that trip anyway when it waits for its response.
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._closed:  # no one would hand this waiter anything
            raise httpcore.ConnectError(POOL_CLOSED)
        if self.free and not self._waiters:
            self.free -= 1
            return
        deadline = math.inf if timeout is None else trio.current_time() + timeout
        me = _Waiter(trio.lowlevel.current_task(), deadline)
        self._waiters[me.task] = me
        if self._on_duty is None:
            self._on_duty = me
        elif self._duty_scope is not None and deadline < self._duty_scope.deadline:
            self._duty_scope.deadline = deadline
        try:
            while me.handed is None:
                if self._on_duty is me:
                    await self._watch(me)
                else:
                    await self._park(me)
            me.handed.unwrap()  # None for a slot; PoolTimeout, or ConnectError once closed
        except BaseException:
            # Cancelled once a slot was handed to it, while it was awake: the next in line gets it.
            if isinstance(me.handed, outcome.Value):
                me.handed = None
                self.release()
            raise
        finally:
            if self._waiters.get(me.task) is me:  # cancelled while waiting
                del self._waiters[me.task]
            if self._on_duty is me:
                self._hand_duty()

    async def _watch(self, me: _Waiter) -> None:
        """Park on duty until handed something, or until the earliest deadline, which fails the
        waiters whose time is up (perhaps `me`)."""
        earliest = min(waiter.deadline for waiter in self._waiters.values())
        with trio.CancelScope(deadline=earliest) as scope:
            self._duty_scope = scope
            await self._park(me)
        if self._duty_scope is scope:
            self._duty_scope = None
        if scope.cancelled_caught:
            now = trio.current_time()
            for waiter in [w for w in self._waiters.values() if w.deadline <= now]:
                del self._waiters[waiter.task]
                self._hand(waiter, outcome.Error(httpcore.PoolTimeout()))

    @staticmethod
    async def _park(me: _Waiter) -> None:
        """Park until woken: with something handed (kept in `me.handed`) or to go on duty."""

        def abort(_: object) -> trio.lowlevel.Abort:
            # Trio calls this only while the task is still parked: nothing was handed to it.
            me.parked = False
            return trio.lowlevel.Abort.SUCCEEDED

        me.parked = True
        handed: outcome.Outcome[None] | None = await trio.lowlevel.wait_task_rescheduled(abort)
        if handed is not None:  # None: to go on duty; what was handed meanwhile stays
            me.handed = handed

    @staticmethod
    def _hand(waiter: _Waiter, handed: outcome.Outcome[None] | None) -> None:
        """Wake `waiter` with `handed` (None: to go on duty); one awake sees it before parking."""
        if waiter.parked:
            waiter.parked = False
            trio.lowlevel.reschedule(waiter.task, outcome.Value(handed))
        elif handed is not None:
            waiter.handed = handed

    def _hand_duty(self) -> None:
        self._on_duty = self._duty_scope = None
        if self._waiters:
            newest = next(reversed(self._waiters.values()))
            self._on_duty = newest
            self._hand(newest, None)

    def release(self) -> None:
        if self._waiters:
            _, waiter = self._waiters.popitem(last=False)
            self._hand(waiter, outcome.Value(None))  # a slot (an outcome unwraps only once)
            return
        self.free += 1

    def close(self) -> None:
        self._closed = True
        while self._waiters:
            _, waiter = self._waiters.popitem(last=False)
            self._hand(waiter, outcome.Error(httpcore.ConnectError(POOL_CLOSED)))
