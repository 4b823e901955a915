"""The async driver: performs a protocol's effects on asyncio or trio, whichever is running."""

from __future__ import annotations

import inspect
import math
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from jobs_core import (
    Effect,
    Gather,
    HttpRequest,
    JobConfigurationError,
    Now,
    Protocol,
    RefreshEndpoint,
    RenewToken,
    SignAssertion,
    Sleep,
    SqlFailure,
    SqlQuery,
    TransportError,
)

from ._account_session import AccountSession, AccountUpdate, NeedsAccount, waited_past_deadline
from ._client_errors import CLOSED, CLOSED_DURING_CALL, JobClientClosedError
from ._gateways import describe_backends
from ._request_log import RequestLog
from ._runtimes import Runtime, current_runtime, running_in
from ._sql_executor import SqlExecutor
from ._time_left import time_left

if TYPE_CHECKING:
    # Not at run time: httpcore (which imports trio) loads only for a client with a base URL.
    from ._http_executors import AsyncHttp
    from ._key_pair import KeyPairSigner  # jwt and cryptography: for key-pair logins only

T = TypeVar("T")


class AsyncDriver:
    """Runs protocols under the running event loop; SQL statements run in worker threads.

    The loop is detected on first use, and the driver (with its connection pool) stays bound to it.
    Closing it from any task stops the runs in flight with `JobClientClosedError`, and refuses new
    runs with it. `sleep` and `clock` replace the loop's own (a close cancels a `sleep` of yours
    like any other await).

    How a close stops a run, as the sync driver's does: an HTTP exchange fails at once because
    the close closes the pool (its connections and its queue of requests waiting for one), and
    the run, seeing the driver closed, ends with `JobClientClosedError` instead of retrying. Every
    other wait (a sleep, a statement, an account update, a `Gather`) runs in a cancel scope that
    the close cancels. Exchanges take no scope: one per call costs a create in a burst of 1,000
    about 6 µs (asyncio) to 9 µs (trio) of CPU, and the pool already ends them.
    """

    def __init__(
        self,
        *,
        http: AsyncHttp | None = None,
        sql: SqlExecutor | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        account: AccountSession | None = None,
        signer: KeyPairSigner | None = None,
    ) -> None:
        self.http = http
        self.sql = sql
        self._sleep = sleep
        self._clock = clock
        self.account = account
        self._signer = signer
        self._runtime: Runtime | None = None
        self._loop: object = None
        self._closed = False
        self._waits: set[anyio.CancelScope] = set()

    @property
    def runtime(self) -> Runtime:
        """The runtime of the loop this driver is bound to.

        Raises:
            JobConfigurationError: called outside asyncio/trio, or in another event loop than the
                one the driver was first used in (its pooled connections belong to that loop).
        """
        bound = self._runtime
        if bound is not None and running_in(bound, self._loop):
            return bound
        current = current_runtime()
        if bound is None:
            self._runtime, self._loop = current, current.loop()
            return current
        raise JobConfigurationError(
            f"this client belongs to the {bound.name} event loop it was first used"
            f" in; make one client per event loop"
        )

    def run(self, protocol: Protocol[T]) -> Coroutine[Any, Any, T]:
        """Return the coroutine that performs `protocol`'s effects until it returns, and returns
        its result or raises its error.

        (A plain function returning `_drive`'s coroutine, not a coroutine awaiting it: one
        coroutine less per call, which a burst of calls keeps alive by the thousand.)

        Raises:
            JobClientClosedError: the driver is closed (at once), or was closed during the run.
            JobConfigurationError: called outside the event loop the driver is bound to.
        """
        if self._closed:
            protocol.close()
            raise JobClientClosedError(CLOSED)
        return self._drive(self.runtime, protocol)

    async def _drive(
        self,
        runtime: Runtime,
        protocol: Protocol[T],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> T:
        """Perform `protocol`'s effects, with `sleep` (when given) performing its `Sleep`s."""
        try:
            effect = next(protocol)
            while True:
                self._refuse_if_closed()
                try:
                    if sleep is not None and isinstance(effect, Sleep):
                        await self._closable(sleep(effect.seconds))
                        reply = None
                    else:
                        reply = await self.perform(runtime, effect)
                except (TransportError, SqlFailure) as exc:
                    self._refuse_if_closed(exc)  # the close failed it: no retry, no wrong error
                    effect = protocol.throw(exc)
                else:
                    effect = protocol.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            protocol.close()

    def _refuse_if_closed(self, cause: Exception | None = None) -> None:
        if self._closed:
            raise JobClientClosedError(CLOSED_DURING_CALL) from cause

    async def _closable(self, wait: Awaitable[T]) -> T:
        """Return what awaiting `wait` returns, unless the driver is closed meanwhile.

        Raises:
            JobClientClosedError: the driver was closed before or during the wait.
        """
        scope = anyio.CancelScope()
        self._waits.add(scope)
        try:
            with scope:
                if self._closed:  # closed just now, before this scope could be cancelled
                    scope.cancel()
                return await wait
        finally:
            self._waits.discard(scope)
            if inspect.iscoroutine(wait):
                wait.close()  # never started when the scope was cancelled first: no warning
        # Only a close cancels this scope; a cancellation of the caller propagates past it.
        raise JobClientClosedError(CLOSED_DURING_CALL)

    async def perform(self, runtime: Runtime, effect: Effect) -> Any:
        """Perform one effect and return its reply.

        Raises:
            TransportError, SqlFailure: the I/O failed (to be thrown into the protocol).
            JobConfigurationError: the effect needs a backend this driver does not have.
            JobClientClosedError: the driver was closed during a wait other than an exchange.
        """
        if isinstance(effect, HttpRequest):
            http = self._need_http()
            account = self.account if effect.origin is None else None
            if account is not None:
                if not account.is_ready(self._now(runtime)):
                    await self._closable(self._update_account(runtime, account.prepare, effect))
                account.mark_used()
            time_left = self._time_left(runtime, effect.deadline)
            try:
                with RequestLog(effect, runtime.now) as log:
                    log.reply = await http.send(effect, time_left)
            except TransportError as exc:
                if account is not None and account.distrusts(exc) and not self._closed:
                    # A cached endpoint nobody answers at: find the current one; the protocol
                    # retries the request (it was never sent) at it.
                    await self._closable(self._update_account(runtime, account.rediscover, effect))
                raise
            return log.reply
        if isinstance(effect, Now):
            return self._now(runtime)
        return await self._closable(self._perform_wait(runtime, effect))

    async def _perform_wait(self, runtime: Runtime, effect: Effect) -> Any:
        """Perform one effect other than an HTTP exchange or `Now` (see `perform`)."""
        if isinstance(effect, SqlQuery):
            if self.sql is None:
                raise JobConfigurationError("this client has no SQL connection")
            time_left = self._time_left(runtime, effect.deadline)
            # Set once this call stops waiting, cancelled or not (`abandon` wakes the executor's
            # waits): a statement still queued for the connection then never runs for a caller
            # that is gone, and no thread waits for it.
            abandoned = threading.Event()
            try:
                with RequestLog(effect, runtime.now) as log:
                    log.reply = await runtime.to_thread(
                        self.sql.execute, effect, time_left, abandoned
                    )
            finally:
                self.sql.abandon(abandoned)
            return log.reply
        if isinstance(effect, Sleep):
            await (self._sleep or runtime.sleep)(effect.seconds)
            return None
        if isinstance(effect, Gather):
            jobs = [lambda child=child: self._outcome(runtime, child) for child in effect.protocols]
            return await runtime.gather(jobs, effect.limit)
        if isinstance(effect, RefreshEndpoint):
            if self.account is not None:
                await self._update_account(runtime, self.account.rediscover, effect)
            else:
                self._need_http().target.refresh()
            return None
        if isinstance(effect, RenewToken):
            if self.account is not None:
                await self._update_account(runtime, self.account.renew, effect)
            return None
        if isinstance(effect, SignAssertion):
            if self._signer is None:
                raise JobConfigurationError("this client has no private key to sign with")
            return self._signer.sign()
        raise TypeError(f"unknown effect {effect!r}")

    def _now(self, runtime: Runtime) -> float:
        return self._clock() if self._clock is not None else runtime.now()

    def _time_left(self, runtime: Runtime, deadline: float | None) -> float | None:
        return time_left(deadline, self._now(runtime))

    async def _update_account(
        self,
        runtime: Runtime,
        update: AccountUpdate,
        effect: NeedsAccount,
    ) -> None:
        # One discovery or exchange at a time; whoever waited finds the state fresh. It carries
        # the deadline (persistent or not) of the effect that needs it, so it ends with the call
        # like any request; so does the wait for another call's. Its backoff sleeps let go of
        # the lock: a call riding out a failing account until a distant deadline must not hold
        # up the others, which try on their own terms meanwhile.
        assert self.account is not None
        lock = self.account.async_lock
        await self._acquire(runtime, lock, effect.deadline)
        held = True

        async def sleep_unlocked(seconds: float) -> None:
            nonlocal held
            lock.release()
            held = False
            await (self._sleep or runtime.sleep)(seconds)
            await self._acquire(runtime, lock, effect.deadline)
            held = True

        try:
            await self._drive(runtime, update(effect.deadline, effect.persist), sleep_unlocked)
        finally:
            if held:
                lock.release()
        self._need_http().target.refresh()  # the endpoint may have changed

    async def _acquire(self, runtime: Runtime, lock: anyio.Lock, deadline: float | None) -> None:
        """Take `lock`, waiting no later than `deadline`.

        Raises:
            JobTimeoutError: the deadline passed first.
        """
        try:
            lock.acquire_nowait()  # a free lock is taken even at the deadline, as a thread's is
        except anyio.WouldBlock:
            pass
        else:
            return
        time_left = self._time_left(runtime, deadline)
        with anyio.move_on_after(math.inf if time_left is None else time_left) as waiting:
            await lock.acquire()
        if waiting.cancelled_caught:
            raise waited_past_deadline()

    async def _outcome(self, runtime: Runtime, protocol: Protocol[Any]) -> Any:
        try:
            return await self._drive(runtime, protocol)
        except Exception as exc:
            return exc

    def __repr__(self) -> str:
        return f"AsyncDriver({describe_backends(self.http, self.sql)})"

    def _need_http(self) -> AsyncHttp:
        if self.http is None:
            raise JobConfigurationError("this client has no Direct Access base URL")
        return self.http

    async def aclose(self) -> None:
        """Stop the runs in flight; release the connection pool and any SQL connection this
        driver opened."""
        self._closed = True
        for scope in self._waits:
            scope.cancel()
        try:
            if self.http is not None:
                await self.http.aclose()
        finally:
            if self.sql is not None:
                if self._runtime is not None:
                    # In a worker thread of the loop running now, which may not be the one the
                    # driver was bound to (that one may be over).
                    await current_runtime().to_thread(self.sql.close)
                else:
                    self.sql.close()
