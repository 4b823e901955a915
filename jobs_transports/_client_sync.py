"""`JobsClientSync` and `JobOperationSync`: the blocking public API."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import jobs_core as core
from jobs_core import (
    ClientConfig,
    EventsPager,
    Job,
    JobEvents,
    JobIncludeDict,
    JobNotReadyError,
    Operation,
    OperationRef,
    ProgressCallback,
)

from ._client_errors import closed_error
from ._gateways import SyncGateway, default_config


class JobsClientSync:
    """Synchronous jobs client. `Logic` routes to transactions, `Prescriptive`/`Predictive` to jobs.

    Made by `jobs_transports.connect_sync(...)`; use it as a context manager or call `close()`.
    """

    def __init__(self, gateway: SyncGateway, *, config: ClientConfig | None = None) -> None:
        self._driver = gateway
        self._config = config if config is not None else default_config(gateway)
        self._closed = False

    @property
    def config(self) -> ClientConfig:
        """The configuration the protocols run with."""
        return self._config

    def _run(self, protocol: core.Protocol[Any]) -> Any:
        if self._closed:
            protocol.close()
            raise closed_error()
        return self._driver.run(protocol)

    def close(self) -> None:
        """Close the connection pool and any SQL connection the client opened itself."""
        if not self._closed:
            self._closed = True
            self._driver.close()

    def __enter__(self) -> JobsClientSync:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get(
        self, reasoner_type: str, job_id: str, *, include: JobIncludeDict | None = None
    ) -> Job | None:
        """Return the job/transaction, or None if not found (a `JobExpanded` with `include=`)."""
        return self._run(core.get(self._config, reasoner_type, job_id, include=include))  # type: ignore[no-any-return]

    def create(
        self,
        reasoner_type: str,
        reasoner_name: str,
        payload: dict[str, Any],
        *,
        timeout_mins: int | None = None,
    ) -> JobOperationSync:
        """Start a job/transaction and return a non-blocking operation handle."""
        ref = self._run(
            core.create(
                self._config, reasoner_type, reasoner_name, payload, timeout_mins=timeout_mins
            )
        )
        return JobOperationSync(self, ref)

    def create_ready(
        self,
        reasoner_type: str,
        reasoner_name: str,
        payload: dict[str, Any],
        *,
        timeout_mins: int | None = None,
        timeout_s: float = 900,
        poll_interval_s: float = 0.5,
        include: JobIncludeDict | None = None,
        on_poll: ProgressCallback | None = None,
    ) -> Job:
        """Create a job and block until it reaches a terminal state; return the final job."""
        return self._run(  # type: ignore[no-any-return]
            core.create_ready(
                self._config,
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

    def list(
        self,
        reasoner_type: str | None = None,
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
    ) -> builtins.list[Job]:
        """List jobs/transactions newest first; all types merged when `reasoner_type` is None."""
        return self._run(  # type: ignore[no-any-return]
            core.list_jobs(
                self._config,
                reasoner_type,
                job_id=job_id,
                state=state,
                name=name,
                created_by=created_by,
                only_active=only_active,
                all_users=all_users,
                limit=limit,
                offset=offset,
                include=include,
            )
        )

    def get_events(
        self,
        reasoner_type: str,
        job_id: str,
        continuation_token: str = "",
        *,
        stream_name: str = "progress",
    ) -> JobEvents:
        """Return one page of events and the token of the next page."""
        return self._run(  # type: ignore[no-any-return]
            core.get_events(
                self._config, reasoner_type, job_id, continuation_token, stream_name=stream_name
            )
        )

    def iter_events(
        self,
        reasoner_type: str,
        job_id: str,
        continuation_token: str | None = "",
        *,
        stream_name: str = "progress",
        follow: bool = False,
        poll_interval_s: float = 0.5,
    ) -> EventIterator:
        """Return an iterator over every event, page after page (until the job ends with `follow`).

        The iterator's `continuation_token` resumes after the last page it read.
        """
        pager = EventsPager.open(
            self._config,
            reasoner_type,
            job_id,
            continuation_token,
            stream_name=stream_name,
            follow=follow,
            poll_interval_s=poll_interval_s,
        )
        return EventIterator(self, pager)

    def cancel(self, reasoner_type: str, job_id: str, *, all_users: bool = False) -> None:
        """Cancel a job/transaction (`all_users=True` is for Logic only)."""
        self._run(core.cancel(self._config, reasoner_type, job_id, all_users=all_users))

    def wait(
        self,
        reasoner_type: str,
        job_id: str,
        *,
        timeout_s: float = 900,
        poll_interval_s: float = 0.5,
        include: JobIncludeDict | None = None,
        on_poll: ProgressCallback | None = None,
    ) -> Job:
        """Poll until the job ends and return it; raises `JobTimeoutError` past `timeout_s`."""
        return self._run(  # type: ignore[no-any-return]
            core.wait(
                self._config,
                reasoner_type,
                job_id,
                timeout_s=timeout_s,
                poll_interval_s=poll_interval_s,
                include=include,
                on_poll=on_poll,
            )
        )

    def get_operation(self, reasoner_type: str, job_id: str) -> Operation:
        """Return the normalised operation status of a job."""
        return self._run(core.get_operation(self._config, reasoner_type, job_id))  # type: ignore[no-any-return]

    def operation(self, ref: OperationRef | dict[str, Any]) -> JobOperationSync:
        """Return the handle of a job started elsewhere (from `JobOperationSync.to_dict()`)."""
        return JobOperationSync(
            self, ref if isinstance(ref, OperationRef) else OperationRef.from_dict(ref)
        )


class EventIterator(Iterator[dict[str, Any]]):
    """Iterates over events page by page; `continuation_token` resumes after the last page read."""

    def __init__(self, client: JobsClientSync, pager: EventsPager) -> None:
        self._client = client
        self._pager = pager
        self._buffer: list[dict[str, Any]] = []
        self._page_token: str | None = pager.continuation_token

    @property
    def continuation_token(self) -> str | None:
        """Where a new iterator resumes: the start of the page being read, if it is not used up.

        A reader that stops in the middle of a page gets that page again (no event is lost);
        None once the stream has ended.
        """
        return self._page_token if self._buffer else self._pager.continuation_token

    def __next__(self) -> dict[str, Any]:
        while not self._buffer:
            self._page_token = self._pager.continuation_token
            page = self._client._run(self._pager.next_page())
            if page is None:
                raise StopIteration
            self._buffer = list(page.events)
        return self._buffer.pop(0)


class JobOperationSync:
    """A started job: poll it, wait for it, or turn it into data to resume elsewhere."""

    def __init__(self, client: JobsClientSync, ref: OperationRef) -> None:
        self._client = client
        self._ref = ref
        self._final: Job | None = None

    @property
    def id(self) -> str:
        """The job or transaction id."""
        return self._ref.id

    @property
    def metadata(self) -> dict[str, Any]:
        """``{"reasoner_type": <public label>, "name": <reasoner name>}``."""
        return {"reasoner_type": self._ref.reasoner_type, "name": self._ref.name}

    def to_dict(self) -> dict[str, Any]:
        """Return the handle as plain data; `JobsClientSync.operation(data)` rebuilds it."""
        return self._ref.to_dict()

    def status(self) -> Operation:
        """Return the current normalised status."""
        return self._client.get_operation(self._ref.reasoner_type, self._ref.id)

    def is_done(self) -> bool:
        """Return True once the job has ended, whatever the outcome."""
        return self._final is not None or self.status().done()

    def wait(
        self,
        timeout_s: float = 900,
        poll_interval_s: float = 0.5,
        include: JobIncludeDict | None = None,
        *,
        on_poll: ProgressCallback | None = None,
    ) -> Job:
        """Block until the job ends; return the final job (cached for `result()`)."""
        if self._final is None or include:
            self._final = self._client.wait(
                self._ref.reasoner_type,
                self._ref.id,
                timeout_s=timeout_s,
                poll_interval_s=poll_interval_s,
                include=include,
                on_poll=on_poll,
            )
        return self._final

    def result(self, include: JobIncludeDict | None = None) -> Job:
        """Return the final job.

        Raises:
            JobNotReadyError: the job has not ended yet.
        """
        if self._final is not None and not include:
            return self._final
        job = self._client.get(self._ref.reasoner_type, self._ref.id, include=include)
        if job is None or not job.is_terminal:
            state = job.state if job is not None else "not visible yet"
            raise JobNotReadyError(
                f"{self._ref.reasoner_type} {self._ref.id} is not done ({state})"
            )
        self._final = job
        return job
