"""`JobsClient` and `JobOperation`: the async public API, for asyncio and trio.

Every method turns its arguments into a `jobs_core` protocol and runs it on the gateway; the
blocking client in `_client_sync.py` mirrors this one method for method.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncIterator, Coroutine, Generator, Iterable
from types import TracebackType
from typing import Any, TypeVar, overload

import anyio

import jobs_core as core
from jobs_core import (
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_STREAM,
    DEFAULT_TIMEOUT_S,
    ClientConfig,
    Completions,
    EventsPager,
    Job,
    JobError,
    JobEvents,
    JobExpanded,
    JobIncludeDict,
    Operation,
    OperationHandle,
    OperationRef,
    ProgressCallback,
    ReasonerTypeName,
)

from ._client_base import (
    ClientBase,
    EventIteratorBase,
    HandleBase,
    core_operations,
)
from ._gateways import JobsGateway

T = TypeVar("T")


class JobsClient(ClientBase[JobsGateway]):
    """Async-first jobs client. `Logic` routes to transactions, `Prescriptive`/`Predictive` to jobs.

    Made by `jobs_transports.connect(...)`; works under asyncio and trio (detected on first use).
    Use it with `async with` or call `aclose()`. After `aclose()` (from any task), calls still
    running stop at once and new ones are refused, all with `JobClientClosedError`.
    """

    def __init__(
        self, _gateway: JobsGateway, _config: ClientConfig | None = None, _closed: bool = False
    ) -> None:
        self._bind(_gateway, _config, "aclose")
        self._closed = _closed

    def _run(self, protocol: core.Protocol[T]) -> Coroutine[Any, Any, T]:
        # Returns the gateway's run for the caller to await rather than awaiting it here: one
        # coroutine less per call, which a burst of calls keeps alive by the thousand.
        self._refuse_if_closed(protocol)
        return self._driver.run(protocol)

    async def aclose(self) -> None:
        """Close the client: stop the calls in flight, release the connection pool and any SQL
        connection the client opened itself (a caller's `sql_connection` stays open)."""
        if not self._closed:
            self._closed = True
            await self._driver.aclose()

    async def __aenter__(self) -> JobsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @overload
    async def get(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        include: JobIncludeDict,
    ) -> JobExpanded | None: ...
    @overload
    async def get(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        include: JobIncludeDict | None = None,
    ) -> Job | None: ...
    async def get(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        include: JobIncludeDict | None = None,
    ) -> Job | None:
        """Return the job/transaction, or None if not found (a `JobExpanded` with `include=`)."""
        return await self._run(
            core.get(self._call_config(), reasoner_type, job_id, include=include)
        )

    async def create(
        self,
        reasoner_type: ReasonerTypeName | str,
        reasoner_name: str,
        payload: dict[str, Any],
        *,
        timeout_mins: int | None = None,
    ) -> JobOperation:
        """Start a job/transaction and return a non-blocking operation handle."""
        ref = await self._run(
            core.create(
                self._call_config(),
                reasoner_type,
                reasoner_name,
                payload,
                timeout_mins=timeout_mins,
            )
        )
        return JobOperation(self, OperationHandle(self._call_config(), ref))

    @overload
    async def create_ready(
        self,
        reasoner_type: ReasonerTypeName | str,
        reasoner_name: str,
        payload: dict[str, Any],
        *,
        timeout_mins: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict,
        on_poll: ProgressCallback | None = None,
    ) -> JobExpanded: ...
    @overload
    async def create_ready(
        self,
        reasoner_type: ReasonerTypeName | str,
        reasoner_name: str,
        payload: dict[str, Any],
        *,
        timeout_mins: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
        on_poll: ProgressCallback | None = None,
    ) -> Job: ...
    async def create_ready(
        self,
        reasoner_type: ReasonerTypeName | str,
        reasoner_name: str,
        payload: dict[str, Any],
        *,
        timeout_mins: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
        on_poll: ProgressCallback | None = None,
    ) -> Job:
        """Create a job and block until it reaches a terminal state; return the final job."""
        return await self._run(
            core.create_ready(
                self._call_config(),
                reasoner_type,
                reasoner_name,
                payload,
                timeout_mins=timeout_mins,
                timeout_s=timeout_s,
                poll_interval_s=poll_interval_s,
                include=include,
                on_poll=on_poll,
            )
        )

    @overload
    async def list(
        self,
        reasoner_type: ReasonerTypeName | str | None = None,
        *,
        job_id: str | None = None,
        state: str | None = None,
        name: str | None = None,
        created_by: str | None = None,
        only_active: bool = False,
        all_users: bool = False,
        limit: int | None = None,
        include: JobIncludeDict,
        offset: int = 0,
    ) -> builtins.list[JobExpanded]: ...
    @overload
    async def list(
        self,
        reasoner_type: ReasonerTypeName | str | None = None,
        *,
        job_id: str | None = None,
        state: str | None = None,
        name: str | None = None,
        created_by: str | None = None,
        only_active: bool = False,
        all_users: bool = False,
        limit: int | None = None,
        include: JobIncludeDict | None = None,
        offset: int = 0,
    ) -> builtins.list[Job]: ...
    async def list(
        self,
        reasoner_type: ReasonerTypeName | str | None = None,
        *,
        job_id: str | None = None,
        state: str | None = None,
        name: str | None = None,
        created_by: str | None = None,
        only_active: bool = False,
        all_users: bool = False,
        limit: int | None = None,
        include: JobIncludeDict | None = None,
        offset: int = 0,
    ) -> builtins.list[Job] | builtins.list[JobExpanded]:
        """List jobs/transactions newest first; all types merged when `reasoner_type` is None."""
        return await self._run(
            core.list_jobs(
                self._call_config(),
                reasoner_type,
                job_id=job_id,
                state=state,
                name=name,
                created_by=created_by,
                only_active=only_active,
                all_users=all_users,
                limit=limit,
                include=include,
                offset=offset,
            )
        )

    async def get_events(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        continuation_token: str = "",
        *,
        stream_name: str = DEFAULT_STREAM,
    ) -> JobEvents:
        """Return one page of events and the token of the next page."""
        return await self._run(
            core.get_events(
                self._call_config(),
                reasoner_type,
                job_id,
                continuation_token,
                stream_name=stream_name,
            )
        )

    def iter_events(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        continuation_token: str | None = "",
        *,
        stream_name: str = DEFAULT_STREAM,
        follow: bool = False,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    ) -> EventIterator:
        """Return an async iterator over every event, page after page (to the end with `follow`).

        The iterator's `continuation_token` resumes where it stopped. With `follow`, a quiet
        stream is read `poll_interval_s` apart at first, then further apart as it stays quiet, on
        the client's `PollPolicy` (see `jobs_core.EventsPager`).
        """
        pager = EventsPager.open(
            self._call_config(),
            reasoner_type,
            job_id,
            continuation_token,
            stream_name=stream_name,
            follow=follow,
            poll_interval_s=poll_interval_s,
        )
        return EventIterator(self, pager)

    async def cancel(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        all_users: bool = False,
    ) -> None:
        """Cancel a job/transaction (`all_users=True` is for Logic only)."""
        await self._run(
            core.cancel(self._call_config(), reasoner_type, job_id, all_users=all_users)
        )

    @overload
    async def wait(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict,
        on_poll: ProgressCallback | None = None,
    ) -> JobExpanded: ...
    @overload
    async def wait(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
        on_poll: ProgressCallback | None = None,
    ) -> Job: ...
    async def wait(
        self,
        reasoner_type: ReasonerTypeName | str,
        job_id: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
        on_poll: ProgressCallback | None = None,
    ) -> Job:
        """Poll until the job ends and return it; raises `JobTimeoutError` past `timeout_s`."""
        return await self._run(
            core.wait(
                self._call_config(),
                reasoner_type,
                job_id,
                timeout_s=timeout_s,
                poll_interval_s=poll_interval_s,
                include=include,
                on_poll=on_poll,
            )
        )

    @overload
    def as_completed(
        self,
        ops: Iterable[JobOperation | tuple[ReasonerTypeName | str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict,
    ) -> AsyncIterator[JobExpanded]: ...
    @overload
    def as_completed(
        self,
        ops: Iterable[JobOperation | tuple[ReasonerTypeName | str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
    ) -> AsyncIterator[Job]: ...
    def as_completed(
        self,
        ops: Iterable[JobOperation | tuple[ReasonerTypeName | str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
    ) -> AsyncIterator[Job]:
        """Return an async iterator over the final jobs of `ops` in the order they finish.

        `ops` are operation handles or ``(reasoner_type, job_id)`` pairs, checked before any I/O.
        Each polling round lists the active jobs once per reasoner type and reads only the jobs
        that left that list. Past `timeout_s` (counted from the first step) the iterator raises
        `JobTimeoutError`, whose `pending` holds the jobs not finished, as last seen.
        """
        completions = Completions.open(
            self._call_config(),
            core_operations(ops),
            timeout_s=timeout_s,
            poll_interval_s=poll_interval_s,
            include=include,
        )
        return CompletionIterator(self, completions)

    @overload
    async def wait_all(
        self,
        ops: Iterable[JobOperation | tuple[ReasonerTypeName | str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict,
    ) -> builtins.list[JobExpanded]: ...
    @overload
    async def wait_all(
        self,
        ops: Iterable[JobOperation | tuple[ReasonerTypeName | str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
    ) -> builtins.list[Job]: ...
    async def wait_all(
        self,
        ops: Iterable[JobOperation | tuple[ReasonerTypeName | str, str]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
    ) -> builtins.list[Job] | builtins.list[JobExpanded]:
        """Wait until every job of `ops` ends; return their final jobs in the order of `ops`.

        Polls as `as_completed` does; raises `JobTimeoutError` past `timeout_s`.
        """
        return await self._run(
            core.wait_all(
                self._call_config(),
                core_operations(ops),
                timeout_s=timeout_s,
                poll_interval_s=poll_interval_s,
                include=include,
            )
        )

    async def get_operation(self, reasoner_type: ReasonerTypeName | str, job_id: str) -> Operation:
        """Return the normalised operation status of a job."""
        return await self._run(core.get_operation(self._call_config(), reasoner_type, job_id))

    def operation(self, ref: OperationRef | dict[str, Any]) -> JobOperation:
        """Return the handle of a job started elsewhere (from `JobOperation.to_dict()`).

        Raises:
            JobInvalidRequestError: `ref` is not an `OperationRef` or such a dict, or names no
                usable id or reasoner type.
        """
        return JobOperation(self, OperationHandle.of(self._call_config(), ref))


class EventIterator(EventIteratorBase, AsyncIterator[dict[str, Any]]):
    """Iterates over events page by page; `continuation_token` resumes where it stopped."""

    _client: JobsClient

    def __init__(self, client: JobsClient, pager: EventsPager) -> None:
        self._client = client
        self._pager = pager

    async def __anext__(self) -> dict[str, Any]:
        event = await self._client._run(self._pager.next_event())
        if event is None:
            raise StopAsyncIteration
        return event


class CompletionIterator(AsyncIterator[Job]):
    """The final jobs of many operations, in the order they finish (see `as_completed`)."""

    def __init__(self, client: JobsClient, completions: Completions) -> None:
        self._client = client
        self._completions = completions

    async def __anext__(self) -> Job:
        job = await self._client._run(self._completions.next_done())
        if job is None:
            raise StopAsyncIteration
        return job


class JobOperation(HandleBase):
    """A started job: poll it, wait for it, cancel it, read its events, or turn it into data to
    resume elsewhere.

    ``await op`` and ``async with op as job`` wait for the final job with the default arguments.
    The block of ``async with op as job`` runs once the job has ended, so there is nothing left to
    cancel when it raises; for a block that runs while the job does and cancels it when the block
    fails (an error, a timeout, a cancelled task), use ``async with op.cancel_on_error():``.
    """

    _client: JobsClient

    def __init__(self, client: JobsClient, handle: OperationHandle) -> None:
        self._client = client
        self._handle = handle

    async def status(self) -> Operation:
        """Return the current normalised status."""
        return await self._client._run(self._handle.status())

    async def is_done(self) -> bool:
        """Return True once the job has ended, whatever the outcome."""
        return await self._client._run(self._handle.is_done())

    @overload
    async def wait(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        *,
        include: JobIncludeDict,
        on_poll: ProgressCallback | None = None,
        raise_on_failure: bool = False,
    ) -> JobExpanded: ...
    @overload
    async def wait(
        self,
        timeout_s: float,
        poll_interval_s: float,
        include: JobIncludeDict,
        *,
        on_poll: ProgressCallback | None = None,
        raise_on_failure: bool = False,
    ) -> JobExpanded: ...
    @overload
    async def wait(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
        *,
        on_poll: ProgressCallback | None = None,
        raise_on_failure: bool = False,
    ) -> Job: ...
    async def wait(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        include: JobIncludeDict | None = None,
        *,
        on_poll: ProgressCallback | None = None,
        raise_on_failure: bool = False,
    ) -> Job:
        """Wait until the job ends; return the final job (cached for `result()`).

        Raises:
            JobTimeoutError: `timeout_s` passed first (the job may still be running).
            JobFailedError: with `raise_on_failure`, the job ended FAILED, ABORTED or CANCELED.
        """
        return await self._client._run(
            self._handle.wait(
                timeout_s,
                poll_interval_s,
                include,
                on_poll=on_poll,
                raise_on_failure=raise_on_failure,
            )
        )

    @overload
    async def result(
        self, include: JobIncludeDict, *, raise_on_failure: bool = False
    ) -> JobExpanded: ...
    @overload
    async def result(
        self, include: JobIncludeDict | None = None, *, raise_on_failure: bool = False
    ) -> Job: ...
    async def result(
        self, include: JobIncludeDict | None = None, *, raise_on_failure: bool = False
    ) -> Job:
        """Return the final job.

        Raises:
            JobNotReadyError: the job has not ended yet.
            JobFailedError: with `raise_on_failure`, the job ended FAILED, ABORTED or CANCELED.
        """
        return await self._client._run(
            self._handle.result(include, raise_on_failure=raise_on_failure)
        )

    async def cancel(self) -> None:
        """Ask the service to stop the job."""
        await self._client._run(self._handle.cancel())

    @contextlib.asynccontextmanager
    async def cancel_on_error(self) -> AsyncIterator[JobOperation]:
        """``async with op.cancel_on_error():`` cancels the job if the block raises (an error, a
        timeout, a cancelled task) before the job was seen to end, then lets the block's
        exception through; a failure to cancel is logged (``jobs_core``, WARNING), never raised
        in its place."""
        try:
            yield self
        except BaseException:
            # Shielded: a cancelled task or trio scope must still reach the service to cancel.
            with anyio.CancelScope(shield=True), contextlib.suppress(JobError):
                await self._client._run(self._handle.cancel_on_error())
            raise

    async def events(
        self, continuation_token: str = "", *, stream_name: str = DEFAULT_STREAM
    ) -> JobEvents:
        """Return one page of the job's events and the token of the next page."""
        return await self._client._run(
            self._handle.events(continuation_token, stream_name=stream_name)
        )

    def iter_events(
        self,
        continuation_token: str | None = "",
        *,
        stream_name: str = DEFAULT_STREAM,
        follow: bool = False,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    ) -> EventIterator:
        """Return an async iterator over every event of the job (until it ends with `follow`)."""
        pager = self._handle.iter_events(
            continuation_token,
            stream_name=stream_name,
            follow=follow,
            poll_interval_s=poll_interval_s,
        )
        return EventIterator(self._client, pager)

    def __await__(self) -> Generator[Any, None, Job]:
        """``await op`` waits with the default arguments."""
        return self.wait().__await__()

    async def __aenter__(self) -> Job:
        """``async with op as job`` waits for the final job; the block runs once it has ended
        (see the class docstring and `cancel_on_error`)."""
        return await self.wait()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
