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

    async def sleep(self, seconds: float) -> None: ...

    def now(self) -> float: ...

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def gather(self, jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
        """Run `jobs` at most `limit` at a time; return their results in order."""
        ...


class AsyncioRuntime:
    name = "asyncio"

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


def current_loop() -> object:
    """Return what identifies the running event loop: the asyncio loop, or the trio run's token."""
    if sniffio.current_async_library() == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    return asyncio.get_running_loop()


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
        return TrioRuntime()
    if library == "asyncio":
        return AsyncioRuntime()
    raise JobConfigurationError(f"unsupported async library {library!r}: use asyncio or trio")
