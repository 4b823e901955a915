"""Sending one request or statement under the retry policy.

Which failures are retried (`_failures` says which are which): 429 and 5xx answers, transport
errors, and lost SQL connections or sessions. A
`create` is retried only when that cannot start a second job: on 429 (the service refused it), or
when the request never left (connect errors). A stale Direct Access endpoint is refreshed once,
then retried; so is a Direct Access token the service refused (401). Requests to another origin
(a token exchange) are not Direct Access requests: neither rule applies to them.
Given a deadline (`wait` gives its own), no backoff sleeps past it: when it has passed, the
retries stop with `JobTimeoutError`.
"""

from __future__ import annotations

import random

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


def _back_off(
    delay: float, deadline: float | None, op: str, request: HttpRequest | SqlQuery, why: object
) -> Protocol[None]:
    if deadline is not None:
        remaining = deadline - (yield Now())
        if remaining <= 0:
            raise JobTimeoutError(f"{op}: the deadline passed while retrying a transient failure")
        delay = min(delay, remaining)
    CORE_LOGGER.info(
        "%s: %s: %s; retrying in %.2fs",
        op,
        describe_request(request),
        describe_outcome(why),
        delay,
    )
    yield Sleep(delay)


def _refresh_endpoint(op: str, request: HttpRequest) -> Protocol[None]:
    CORE_LOGGER.warning(
        "%s: the Direct Access endpoint is stale (%s); asking the endpoint provider again",
        op,
        describe_request(request),
    )
    yield RefreshEndpoint()


def send_http(
    config: ClientConfig,
    request: HttpRequest,
    *,
    op: str,
    creates: bool = False,
    deadline: float | None = None,
) -> Protocol[HttpResponse]:
    """Send `request`, retrying transient failures; return the last response, whatever its status.

    Raises:
        JobServerError: a transport failure that the policy does not retry, or that outlived it.
        JobTimeoutError: `deadline` (a `Now` reading) passed before a retry was due.
    """
    policy = config.retry
    rng = random.Random(config.seed)
    refreshed = renewed = False
    attempt = 1
    while True:
        try:
            response: HttpResponse = yield request
        except TransportError as exc:
            if not refreshed and request.origin is None and failures.is_stale_endpoint(exc.message):
                refreshed = True
                yield from _refresh_endpoint(op, request)
                continue
            safe = not creates or not exc.request_sent
            if not safe or attempt >= policy.max_attempts:
                raise JobServerError(
                    f"{op} failed after {attempt} attempt(s): {clip(str(exc))}"
                ) from exc
            yield from _back_off(policy.backoff(attempt, rng), deadline, op, request, exc)
            attempt += 1
            continue
        if (
            not refreshed
            and request.origin is None
            and response.status >= 400
            and failures.is_stale_endpoint(failures.response_text(response))
        ):
            refreshed = True
            yield from _refresh_endpoint(op, request)
            continue
        if response.status == 401 and request.origin is None and not renewed:
            renewed = True
            yield RenewToken()
            continue
        retryable = failures.is_transient_status(response.status) and (
            not creates or response.status == 429
        )
        if not retryable or attempt >= policy.max_attempts:
            return response
        delay = policy.backoff(attempt, rng, failures.retry_after_s(response))
        yield from _back_off(delay, deadline, op, request, response)
        attempt += 1


def run_sql(
    config: ClientConfig,
    query: SqlQuery,
    *,
    kind: ReasonerType,
    creates: bool = False,
    deadline: float | None = None,
) -> Protocol[SqlRows]:
    """Run `query`, retrying when the connection or session (not the statement) failed, unless
    `creates`; return its rows.

    Raises:
        JobError: the statement failed (see `_failures.sql_failure_error`), or the connection
            failures outlived the policy.
        JobTimeoutError: `deadline` (a `Now` reading) passed before a retry was due.
    """
    policy = config.retry
    rng = random.Random(config.seed)
    attempt = 1
    while True:
        try:
            rows: SqlRows = yield query
        except SqlFailure as exc:
            retryable = not creates and failures.is_lost_connection(exc)
            if not retryable or attempt >= policy.max_attempts:
                raise failures.sql_failure_error(query.operation, kind, exc) from exc
            delay = policy.backoff(attempt, rng)
            yield from _back_off(delay, deadline, query.operation, query, exc)
            attempt += 1
            continue
        return rows
