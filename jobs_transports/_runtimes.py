"""What the async driver needs from an event loop, for asyncio and for trio.

trio is imported only where trio runs (it is a large import, of no use to asyncio programs).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import sniffio

from jobs_core import JobConfigurationError

T = TypeVar("T")


class Runtime(Protocol):
    """Sleep, clock, worker threads and bounded concurrency of one event loop."""

    name: str

    def loop(self) -> object:
        """Return what identifies the running event loop of this library.

        Raises:
            RuntimeError: no event loop of this library runs in this thread.
        """
        ...

    async def sleep(self, seconds: float) -> None: ...

    def now(self) -> float: ...

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def gather(self, jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
        """Run `jobs` at most `limit` at a time; return their results in order."""
        ...


class AsyncioRuntime:
    name = "asyncio"

    def loop(self) -> object:
        return asyncio.get_running_loop()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def gather(self, jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
        semaphore = asyncio.Semaphore(limit)

        async def bounded(job: Callable[[], Awaitable[Any]]) -> Any:
            async with semaphore:
                return await job()

        return list(await asyncio.gather(*(bounded(job) for job in jobs)))


class TrioRuntime:
    name = "trio"

    def loop(self) -> object:
        import trio

        return trio.lowlevel.current_trio_token()

    async def sleep(self, seconds: float) -> None:
        import trio

        await trio.sleep(seconds)

    def now(self) -> float:
        import trio

        return trio.current_time()

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        import trio

        # Cancellation abandons the thread at once; the SQL executor's lock keeps the abandoned
        # statement and the next one from sharing the connection.
        return await trio.to_thread.run_sync(functools.partial(fn, *args), abandon_on_cancel=True)

    async def gather(self, jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
        import trio

        limiter = trio.CapacityLimiter(limit)
        results: list[Any] = [None] * len(jobs)

        async def bounded(index: int, job: Callable[[], Awaitable[Any]]) -> None:
            async with limiter:
                results[index] = await job()

        async with trio.open_nursery() as nursery:
            for index, job in enumerate(jobs):
                nursery.start_soon(bounded, index, job)
        return results


_ASYNCIO = AsyncioRuntime()
_TRIO = TrioRuntime()


def current_runtime() -> Runtime:
    """Return the runtime of the running event loop.

    Raises:
        JobConfigurationError: not inside asyncio or trio.
    """
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        raise JobConfigurationError("JobsClient must be used inside asyncio or trio") from None
    if library == "trio":
        return _TRIO
    if library == "asyncio":
        return _ASYNCIO
    raise JobConfigurationError(f"unsupported async library {library!r}: use asyncio or trio")


def running_in(runtime: Runtime, loop: object) -> bool:
    """Return True when `loop` (a `Runtime.loop` reading of `runtime`) is the running loop: what
    a driver bound to it checks on each call, at less cost than finding the runtime anew."""
    try:
        return runtime.loop() is loop
    except RuntimeError:  # another library runs, or none
        return False
