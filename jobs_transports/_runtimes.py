"""What the async driver needs from an event loop, for asyncio and for trio.

trio is imported only where trio runs (it is a large import, of no use to asyncio programs).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import anyio
import sniffio

from jobs_core import JobConfigurationError

T = TypeVar("T")


class Runtime(Protocol):
    """Sleep, clock, worker threads and bounded concurrency of one event loop."""

    name: str

    async def sleep(self, seconds: float) -> None: ...

    def now(self) -> float: ...

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def cancel_by_scope(self, job: Callable[[], Awaitable[T]]) -> T:
        """Return `job()`'s result; a cancellation of the caller reaches the job as a cancel scope.

        A cancel scope spares the shielded sections of the libraries the job calls (httpcore
        releases its pool slots in them), so a cancelled job has cleaned up when this returns.

        Raises:
            What `job()` raises; the caller's cancellation once the job has ended.
        """
        ...

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

    async def cancel_by_scope(self, job: Callable[[], Awaitable[T]]) -> T:
        # A native Task.cancel() goes through anyio's shields, and httpcore releases pool slots
        # inside them: cut short there, the slot stays taken for good. So the job runs in a task
        # of its own, and a cancellation of the caller becomes an anyio scope cancellation, which
        # waits for the shielded sections; the caller waits for the job to end, then re-raises.
        scope = anyio.CancelScope()

        async def scoped() -> T:
            with scope:
                return await job()
            # Only reached when the scope swallowed its cancellation: the job has no result.
            raise asyncio.CancelledError

        task = asyncio.ensure_future(scoped())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            scope.cancel()
            while not task.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved, or asyncio logs it as never retrieved
            raise

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

    async def cancel_by_scope(self, job: Callable[[], Awaitable[T]]) -> T:
        # Trio cancellations are cancel scopes already.
        return await job()

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
