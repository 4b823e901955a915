"""The blocking driver: performs a protocol's effects one after another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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
from ._client_errors import CLOSED_DURING_CALL, JobClientClosedError
from ._gateways import describe_backends
from ._request_log import RequestLog
from ._sql_executor import SqlExecutor
from ._time_left import time_left

if TYPE_CHECKING:
    # Not at run time: httpcore (which imports trio) loads only for a client with a base URL.
    from ._http_executors import SyncHttp
    from ._key_pair import KeyPairSigner  # jwt and cryptography: for key-pair logins only

T = TypeVar("T")


class SyncDriver:
    """Runs protocols with blocking I/O; `Gather` runs its protocols one after another.

    It may be shared by threads, and closed from any of them: the runs in flight then stop with
    `JobClientClosedError` (their sleeps and HTTP exchanges end at once, SQL statements are
    abandoned) and new runs are refused with it. `sleep` and `clock` replace the real ones (a
    `sleep` of yours is not cut short by a close).
    """

    def __init__(
        self,
        *,
        http: SyncHttp | None = None,
        sql: SqlExecutor | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        account: AccountSession | None = None,
        signer: KeyPairSigner | None = None,
    ) -> None:
        self.http = http
        self.sql = sql
        self.account = account
        self._signer = signer
        self._closed = threading.Event()
        self._sleep = sleep if sleep is not None else self._closed.wait
        self._clock = clock

    def run(self, protocol: Protocol[T]) -> T:
        """Perform `protocol`'s effects until it returns; return its result or raise its error.

        Raises:
            JobClientClosedError: the driver is closed, or was closed during the run.
        """
        return self._run(protocol)

    def _run(self, protocol: Protocol[T], sleep: Callable[[float], None] | None = None) -> T:
        """`run`, with `sleep` (when given) performing the protocol's `Sleep`s."""
        try:
            effect = next(protocol)
            while True:
                self._refuse_if_closed()
                try:
                    if sleep is not None and isinstance(effect, Sleep):
                        sleep(effect.seconds)
                        reply = None
                    else:
                        reply = self.perform(effect)
                except (TransportError, SqlFailure) as exc:
                    self._refuse_if_closed(exc)
                    effect = protocol.throw(exc)
                else:
                    effect = protocol.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            protocol.close()

    def perform(self, effect: Effect) -> Any:
        """Perform one effect and return its reply.

        Raises:
            TransportError, SqlFailure: the I/O failed (to be thrown into the protocol).
            JobConfigurationError: the effect needs a backend this driver does not have.
        """
        if isinstance(effect, HttpRequest):
            http = self._need_http()
            account = self.account if effect.origin is None else None
            if account is not None:
                if not account.is_ready(self._clock()):
                    self._update_account(account.prepare, effect)
                account.mark_used()
            try:
                with RequestLog(effect, self._clock) as log:
                    log.reply = http.send(effect, self._time_left(effect.deadline))
            except TransportError as exc:
                if account is not None and account.distrusts(exc):
                    # A cached endpoint nobody answers at: find the current one; the protocol
                    # retries the request (it was never sent) at it.
                    self._update_account(account.rediscover, effect)
                raise
            return log.reply
        if isinstance(effect, SqlQuery):
            if self.sql is None:
                raise JobConfigurationError("this client has no SQL connection")
            with RequestLog(effect, self._clock) as log:
                log.reply = self.sql.execute(effect, self._time_left(effect.deadline))
            return log.reply
        if isinstance(effect, Sleep):
            self._sleep(effect.seconds)
            return None
        if isinstance(effect, Now):
            return self._clock()
        if isinstance(effect, Gather):
            return [self._outcome(child) for child in effect.protocols]
        if isinstance(effect, RefreshEndpoint):
            if self.account is not None:
                self._update_account(self.account.rediscover, effect)
            else:
                self._need_http().target.refresh()
            return None
        if isinstance(effect, RenewToken):
            if self.account is not None:
                self._update_account(self.account.renew, effect)
            return None
        if isinstance(effect, SignAssertion):
            if self._signer is None:
                raise JobConfigurationError("this client has no private key to sign with")
            return self._signer.sign()
        raise TypeError(f"unknown effect {effect!r}")

    def __repr__(self) -> str:
        return f"SyncDriver({describe_backends(self.http, self.sql)})"

    def _refuse_if_closed(self, cause: Exception | None = None) -> None:
        if self._closed.is_set():
            raise JobClientClosedError(CLOSED_DURING_CALL) from cause

    def _time_left(self, deadline: float | None) -> float | None:
        return time_left(deadline, self._clock())

    def _update_account(self, update: AccountUpdate, effect: NeedsAccount) -> None:
        # One discovery or exchange at a time; whoever waited finds the state fresh. It carries
        # the deadline (persistent or not) of the effect that needs it, so it ends with the call
        # like any request; so does the wait for another call's. Its backoff sleeps let go of
        # the lock: a call riding out a failing account until a distant deadline must not hold
        # up the others, which try on their own terms meanwhile.
        assert self.account is not None
        lock = self.account.lock
        self._acquire(lock, effect.deadline)
        held = True

        def sleep_unlocked(seconds: float) -> None:
            nonlocal held
            lock.release()
            held = False
            self._sleep(seconds)
            self._acquire(lock, effect.deadline)
            held = True

        try:
            self._run(update(effect.deadline, effect.persist), sleep_unlocked)
        finally:
            if held:
                lock.release()
        self._need_http().target.refresh()  # the endpoint may have changed

    def _acquire(self, lock: threading.Lock, deadline: float | None) -> None:
        """Take `lock`, waiting no later than `deadline`.

        Raises:
            JobTimeoutError: the deadline passed first.
        """
        time_left = self._time_left(deadline)
        # Past TIMEOUT_MAX (a far deadline: timeout_s=inf) acquire raises OverflowError.
        timeout = -1 if time_left is None else min(max(time_left, 0), threading.TIMEOUT_MAX)
        if not lock.acquire(timeout=timeout):
            raise waited_past_deadline()

    def _outcome(self, protocol: Protocol[Any]) -> Any:
        try:
            return self.run(protocol)
        except Exception as exc:
            return exc

    def _need_http(self) -> SyncHttp:
        if self.http is None:
            raise JobConfigurationError("this client has no Direct Access base URL")
        return self.http

    def close(self) -> None:
        """Stop the runs in flight; release the connection pool and any SQL connection this
        driver opened."""
        self._closed.set()
        try:
            if self.http is not None:
                self.http.close()
        finally:
            if self.sql is not None:
                self.sql.close()
