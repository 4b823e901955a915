"""Sending one request or statement under the retry policy.

Which failures are retried (`_failures` says which are which): 429 and 5xx answers, transport
errors (but a response too large to accept: it would come back as large), and lost SQL
connections or sessions. A `create` is retried only when that cannot start a second job: on 429
(the service refused it), or when the request never left (connect errors). A stale Direct Access
endpoint is refreshed once, then retried; so is a Direct Access token the service refused (401).
Requests to another origin (a token exchange) are not Direct Access requests: neither rule
applies to them.

Given a `Deadline`, every request carries it (the driver ends the exchange by then) and no backoff
sleeps past it: a backoff that would reach it sleeps what is left and ends with `JobTimeoutError`,
naming the last failure. A persistent deadline (polling, which is idempotent) retries transient
failures until it passes instead of for the policy's attempts; its requests say so
(`HttpRequest.persist`, and the `RefreshEndpoint` and `RenewToken` they lead to), so that the
endpoint discovery and token exchange a driver runs for them ride out failures until it as well.

Every reply and failure is the server's (or the driver's) text: the client's secrets are masked
in it as it arrives (see `jobs_core._secrets`), before anything can quote it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

import attrs

from . import _failures as failures
from ._config import ClientConfig
from ._effects import (
    HttpRequest,
    HttpResponse,
    Now,
    Protocol,
    RefreshEndpoint,
    RenewToken,
    Sleep,
    SqlFailure,
    SqlQuery,
    SqlRows,
    TransportError,
)
from ._errors import JobServerError, JobTimeoutError, clip
from ._logs import CORE_LOGGER, describe_outcome, describe_request
from ._models import ReasonerType
from ._secrets import scrub_failure, scrub_response, scrub_rows

T = TypeVar("T")


@attrs.frozen
class Deadline:
    """When a call must be over, and how its requests meet transient failures until then."""

    at: float
    """A reading of the clock `Now` reads."""
    persist: bool = False
    """Retry transient failures until `at` rather than for the retry policy's attempts: for
    requests that are safe to repeat any number of times (polls)."""


def jitter_source(config: ClientConfig, key: str) -> random.Random:
    """Return the generator of the jitter of request `key`'s retries in `config`'s call.

    Seeded by the client's seed, the call's number and the request, so concurrent calls (and the
    concurrent requests of one call, `include=` expansions) back off apart, while a replay, whose
    calls are numbered in the same order, draws exactly what was recorded.
    """
    # A string seed is hashed with SHA-512: the same in every process, unlike hash().
    return random.Random(f"{config.seed}/{config.call}/{key}")


def request_key(request: HttpRequest | SqlQuery) -> str:
    """Return what tells `request` apart from the other requests of its call, for the jitter."""
    if isinstance(request, HttpRequest):
        return f"{request.method} {request.target}"
    return f"{request.text} {request.params!r}"


@attrs.define
class _Retries:
    """The retry state of one request: attempts made, its deadline, the jitter drawn so far.

    The jitter generator (see `jitter_source`) is made on the first retry: most requests need none.
    """

    config: ClientConfig
    op: str
    request: HttpRequest | SqlQuery
    deadline: Deadline | None
    attempt: int = 1
    rng: random.Random | None = None

    def exhausted(self) -> bool:
        """Return True when no retry is left (a persistent deadline never runs out of them)."""
        if self.deadline is not None and self.deadline.persist:
            return False
        return self.attempt >= self.config.retry.max_attempts

    def back_off(
        self,
        outcome: HttpResponse | TransportError | SqlFailure,
        retry_after: float | None = None,
    ) -> Protocol[None]:
        """Sleep before the next attempt; past the deadline, raise `JobTimeoutError` naming
        the failing `outcome` (clipped)."""
        if self.rng is None:
            self.rng = jitter_source(self.config, request_key(self.request))
        delay = self.config.retry.backoff(self.attempt, self.rng, retry_after)
        self.attempt += 1
        if self.deadline is not None:
            remaining = self.deadline.at - (yield Now())
            if delay >= remaining:
                if remaining > 0:
                    yield Sleep(remaining)
                raise JobTimeoutError(
                    f"{self.op}: the deadline passed while retrying"
                    f" (last failure: {clip(_failure_text(outcome))})"
                )
        CORE_LOGGER.info(
            "%s: %s: %s; retrying in %.2fs",
            self.op,
            describe_request(self.request),
            describe_outcome(outcome),
            delay,
        )
        yield Sleep(delay)


def _failure_text(outcome: HttpResponse | TransportError | SqlFailure) -> str:
    if isinstance(outcome, HttpResponse):
        return f"status {outcome.status}: {failures.error_text(outcome)}"
    return outcome.message


def _refresh_endpoint(op: str, request: HttpRequest) -> Protocol[None]:
    """Ask for a fresh endpoint, saying so at WARNING."""
    CORE_LOGGER.warning(
        "%s: the Direct Access endpoint is stale (%s); asking the endpoint provider again",
        op,
        describe_request(request),
    )
    yield RefreshEndpoint(request.deadline, request.persist)


def as_received(response: HttpResponse) -> HttpResponse:
    """Return `response` as it is: the `parse` of `send_http` for callers that read it later."""
    return response


def send_http(
    config: ClientConfig,
    request: HttpRequest,
    parse: Callable[[HttpResponse], T],
    *,
    op: str,
    creates: bool = False,
    deadline: Deadline | None = None,
) -> Protocol[T]:
    """Send `request`, retrying transient failures; return what `parse` makes of the last
    response, whatever its status (parsed here rather than by a generator around this one: one
    frame fewer for every step of every call).

    Raises:
        JobServerError: a transport failure that the policy does not retry, or that outlived it.
        JobTimeoutError: the `deadline` came before a retry was due.
    """
    if deadline is not None:
        request = attrs.evolve(request, deadline=deadline.at, persist=deadline.persist)
    retries: _Retries | None = None  # made on the first failure: most requests have none
    refreshed = renewed = False
    while True:
        try:
            response: HttpResponse = yield request
        except TransportError as exc:
            scrub_failure(exc, config.masks)
            if not refreshed and request.origin is None and failures.is_stale_endpoint(exc.message):
                refreshed = True
                yield from _refresh_endpoint(op, request)
                continue
            safe = not exc.too_large and (not creates or not exc.request_sent)
            retries = retries or _Retries(config, op, request, deadline)
            if not safe or retries.exhausted():
                raise JobServerError(
                    f"{op} failed after {retries.attempt} attempt(s): {clip(str(exc))}"
                ) from exc
            yield from retries.back_off(exc)
            continue
        masks = config.secrets.masks
        if masks:  # a client with no secrets (on the emulator, in a replay) has none to mask
            response = scrub_response(response, masks)
        if response.status < 400:
            return parse(response)
        if (
            not refreshed
            and request.origin is None
            and failures.is_stale_endpoint(failures.response_text(response))
        ):
            refreshed = True
            yield from _refresh_endpoint(op, request)
            continue
        if response.status == 401 and request.origin is None and not renewed:
            renewed = True
            yield RenewToken(request.deadline, request.persist)
            continue
        retryable = failures.is_transient_status(response.status) and (
            not creates or response.status == 429
        )
        retries = retries or _Retries(config, op, request, deadline)
        if not retryable or retries.exhausted():
            return parse(response)
        yield from retries.back_off(response, failures.retry_after_s(response))


def send_sql(
    config: ClientConfig,
    query: SqlQuery,
    *,
    creates: bool = False,
    deadline: Deadline | None = None,
) -> Protocol[SqlRows]:
    """Run `query`, retrying when the connection or session (not the statement) failed, unless
    `creates` and the statement may have been sent; return its rows.

    Raises:
        SqlFailure: the statement failed, or the connection failures outlived the policy (the
            last failure, for the caller to say what it means).
        JobTimeoutError: the `deadline` came before a retry was due.
    """
    if deadline is not None:
        query = attrs.evolve(query, deadline=deadline.at)
    retries = _Retries(config, query.operation, query, deadline)
    while True:
        try:
            rows: SqlRows = yield query
        except SqlFailure as exc:
            scrub_failure(exc, config.masks)
            # A create is tried again only if it never left: a second one could start a second job.
            retryable = (not creates or not exc.statement_sent) and failures.is_lost_connection(exc)
            if not retryable or retries.exhausted():
                raise
            yield from retries.back_off(exc)
            continue
        return scrub_rows(rows, config.masks)


def run_sql(
    config: ClientConfig,
    query: SqlQuery,
    *,
    kind: ReasonerType,
    creates: bool = False,
    deadline: Deadline | None = None,
) -> Protocol[SqlRows]:
    """Run `query` as `send_sql` does; return its rows.

    Raises:
        JobError: the statement failed (see `_failures.sql_failure_error`), or the connection
            failures outlived the policy.
        JobTimeoutError: the `deadline` came before a retry was due.
    """
    try:
        return (yield from send_sql(config, query, creates=creates, deadline=deadline))
    except SqlFailure as exc:
        raise failures.sql_failure_error(query.operation, kind, exc) from exc
