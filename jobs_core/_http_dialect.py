"""The Direct Access (HTTP) dialect: a request builder and a response parser per call, and
`HttpDialect`, which sends them under the retry policy.

Jobs (`Prescriptive`, `Predictive`) live under ``/v1alpha1/jobs``, transactions (`Logic`) under
``/v1alpha1/transactions``. Builders return `HttpRequest`s carrying the JSON headers and the
User-Agent; the driver adds the base URL and the authentication. Parsers take the final response
(after retries) and return the call's value or raise a `JobError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar
from typing import Protocol as Interface
from urllib.parse import quote

from ._config import USER_AGENT, ClientConfig
from ._effects import Headers, HttpRequest, HttpResponse, Protocol
from ._errors import JobInvalidRequestError, JobServerError, excerpt
from ._failures import api_label, check_status, json_body, response_text
from ._filters import ListFilters
from ._json_text import encode_compact
from ._models import Job, JobEvents, JobRecord, ReasonerType
from ._reasoners import lookup_reasoner_type
from ._records import artifacts_by_filename, job_events, record_from_http
from ._retry import Deadline, as_received, send_http
from ._typed_bodies import job_from_get, jobs_from_list
from ._validation import DOT_SEGMENTS

T = TypeVar("T")

HEADERS: Headers = (
    ("Content-Type", "application/json"),
    ("Accept", "application/json"),
    ("User-Agent", USER_AGENT),
)
"""The headers of every request this dialect builds; authentication is the driver's to add."""
_JOBS = "/v1alpha1/jobs"
_TRANSACTIONS = "/v1alpha1/transactions"
_ID_KEYS = ("id", "txn_id")
_WRAPPERS = ("transaction", "txn", "data", "result")
_LOGIC = ReasonerType.LOGIC
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def _segment(value: str) -> str:
    """Return `value` as one percent-encoded path segment.

    Raises:
        JobInvalidRequestError: `value` is ``.`` or ``..`` (an id the server sent, say), which no
            encoding keeps from being read as a relative path segment, or holds a lone surrogate
            (JSON may escape one), which UTF-8 cannot encode.
    """
    if value in DOT_SEGMENTS:
        raise JobInvalidRequestError(f"{value!r} cannot be sent as a path segment")
    if _UNRESERVED(value):
        return value  # what `quote` leaves as it is: ids are mostly UUIDs
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise JobInvalidRequestError(f"{excerpt(value)} cannot be sent as a path segment") from None


def _encode(value: object) -> str:
    """Return `value` as compact JSON text.

    Raises:
        JobInvalidRequestError: `value` holds something JSON cannot represent (NaN included).
    """
    try:
        return encode_compact(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise JobInvalidRequestError(f"payload must be JSON-serialisable: {exc}") from exc


def _request(method: str, target: str, body: bytes = b"") -> HttpRequest:
    return HttpRequest(method, target, HEADERS, body)


def _job_path(kind: ReasonerType, job_id: str) -> str:
    if kind.is_logic:
        return f"{_TRANSACTIONS}/{_segment(job_id)}"
    return f"{_JOBS}/{kind.discriminator}/{_segment(job_id)}"


def build_create(
    kind: ReasonerType,
    name: str,
    payload: dict[str, Any],
    timeout_mins: int | None,
    *,
    abort_detached: bool,
) -> HttpRequest:
    """Return the request that creates a job or transaction on reasoner `name`.

    Jobs send the payload as JSON text inside the body; transactions send the payload itself plus
    `engine_name` and `abort_detached` (`name` and the flag win over the payload's own keys) and
    `timeout_mins` unless the payload already has one. `abort_detached` means nothing to jobs.

    Raises:
        JobInvalidRequestError: the payload cannot be encoded as JSON.
    """
    if kind.is_logic:
        body: dict[str, Any] = {**payload, "engine_name": name, "abort_detached": abort_detached}
        if timeout_mins is not None and "timeout_mins" not in payload:
            body["timeout_mins"] = timeout_mins
        target = f"{_TRANSACTIONS}?use_graph_index=false"
    else:
        body = {"job_type": kind.discriminator, "worker_name": name, "payload": _encode(payload)}
        if timeout_mins is not None:
            body["timeout_mins"] = timeout_mins
        target = _JOBS
    return _request("POST", target, _encode(body).encode())


def parse_create(kind: ReasonerType, response: HttpResponse) -> str:
    """Return the id of the job or transaction `response` says was created.

    Jobs answer ``{"id": ...}``. Transactions answer the id under `id` or `txn_id`, possibly
    inside `transaction`/`txn`/`data`/`result` wrappers (nested ones too), or as a bare string.

    Raises:
        JobError: an error status (see `check_status`), or a success without a usable id
            (`JobServerError`).
    """
    check_status(kind, "create", response)
    body = json_body(kind, "create", response)
    ident = _find_id(body) if kind.is_logic else _id_of(body, ("id",))
    if ident is None:
        raise JobServerError(
            f"{api_label(kind)} create answered without an id: {excerpt(response_text(response))}"
        )
    return ident


def _id_of(value: object, keys: tuple[str, ...]) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in keys:
        ident = value.get(key)
        if isinstance(ident, str) and ident.strip():
            return ident
        if isinstance(ident, int) and not isinstance(ident, bool):
            return str(ident)
    return None


def _find_id(value: object) -> str | None:
    # A loop rather than recursion: the nesting depth comes from the server.
    while True:
        if isinstance(value, str):
            return value if value.strip() else None
        if not isinstance(value, dict):
            return None
        ident = _id_of(value, _ID_KEYS)
        if ident is not None:
            return ident
        value = next((value[key] for key in _WRAPPERS if key in value), None)


def _unwrap_transaction(value: object) -> object:
    while isinstance(value, dict) and not any(key in value for key in _ID_KEYS):
        wrapped = next((value[key] for key in _WRAPPERS if key in value), None)
        if not isinstance(wrapped, dict):
            return value
        value = wrapped
    return value


def build_get(kind: ReasonerType, job_id: str) -> HttpRequest:
    """Return the request that reads one job or transaction."""
    return _request("GET", _job_path(kind, job_id))


def parse_get(kind: ReasonerType, response: HttpResponse) -> JobRecord | None:
    """Return the record `response` describes, or None for a 404 (not found).

    Jobs answer ``{"job": {...}}`` (a bare job object is accepted too); transactions answer the
    transaction object, possibly wrapped as for `create`.

    Raises:
        JobError: another error status (see `check_status`), or an unusable body
            (`JobServerError`).
    """
    if not check_status(kind, "get", response, missing_ok=True):
        return None
    body = json_body(kind, "get", response)
    if kind.is_logic:
        return record_from_http(kind, _unwrap_transaction(body))
    if isinstance(body, dict) and "job" in body:
        body = body["job"]
    return record_from_http(kind, body)


def parse_get_job(kind: ReasonerType, response: HttpResponse) -> Job | None:
    """Return the job `response` describes, or None for a 404: `parse_get`'s record as a `Job`,
    read the fast way when the body is in the service's usual shape (see `_typed_bodies`)."""
    if response.status == 200:
        job = job_from_get(kind, response.body)
        if job is not None:
            return job
    record = parse_get(kind, response)
    return None if record is None else record.job


def build_list(kind: ReasonerType) -> HttpRequest:
    """Return the request that lists every job (of all job types) or every transaction."""
    return _request("GET", _TRANSACTIONS if kind.is_logic else _JOBS)


def parse_list(
    kind: ReasonerType, response: HttpResponse, *, untyped: bool = True
) -> list[JobRecord]:
    """Return the records of `kind` in a list response, in the server's order.

    The body is ``{"jobs": [...]}`` / ``{"transactions": [...]}`` or a bare list; a null list is
    empty. The jobs list holds every job type: only those of `kind` are kept, and those without a
    type when `untyped`.

    Raises:
        JobError: an error status (see `check_status`), or an unusable body or item
            (`JobServerError`).
    """
    check_status(kind, "list", response)
    body = json_body(kind, "list", response)
    key = "transactions" if kind.is_logic else "jobs"
    items = body.get(key, body) if isinstance(body, dict) else body
    if items is None:
        return []
    if not isinstance(items, list):
        raise JobServerError(f"Expected a list of {key} from the server, got {excerpt(body)}")
    if kind.is_logic:
        return [record_from_http(kind, item) for item in items]
    return [
        record_from_http(kind, item)
        for item in items
        if not isinstance(item, dict) or _of_kind(item.get("type"), kind, untyped=untyped)
    ]


def parse_list_jobs(
    kind: ReasonerType, response: HttpResponse, *, untyped: bool = True
) -> list[Job]:
    """Return `parse_list`'s records as `Job`s, read the fast way when the body is in the
    service's usual shape (see `_typed_bodies`)."""
    if response.status == 200:
        jobs = jobs_from_list(kind, response.body, untyped=untyped)
        if jobs is not None:
            return jobs
    return [record.job for record in parse_list(kind, response, untyped=untyped)]


def _of_kind(value: object, kind: ReasonerType, *, untyped: bool) -> bool:
    # A job without a type is of the requested one, as for `get`.
    return untyped if value is None or value == "" else lookup_reasoner_type(value) is kind


def build_events(kind: ReasonerType, job_id: str, token: str, stream: str) -> HttpRequest:
    """Return the request that reads one page of event stream `stream` from `token` on.

    Jobs send `continuation_token` only when `token` is not empty; transactions always send it,
    the initial token ``"0"`` as empty.
    """
    target = f"{_job_path(kind, job_id)}/events/{_segment(stream)}"
    if kind.is_logic:
        target += f"?continuation_token={_segment('' if token == '0' else token)}"
    elif token:
        target += f"?continuation_token={_segment(token)}"
    return _request("GET", target)


def parse_events(kind: ReasonerType, response: HttpResponse) -> JobEvents:
    """Return the page of events in `response`.

    Raises:
        JobError: an error status, a 404 included (`JobNotFoundError`), or an unusable body
            (`JobServerError`).
    """
    check_status(kind, "events", response)
    return job_events(json_body(kind, "events", response))


def build_cancel(kind: ReasonerType, job_id: str) -> HttpRequest:
    """Return the request that cancels a job or transaction (no body)."""
    if kind.is_logic:
        return _request("POST", f"{_job_path(kind, job_id)}/cancel_async")
    return _request("POST", f"{_job_path(kind, job_id)}/cancel")


def parse_cancel(kind: ReasonerType, response: HttpResponse) -> None:
    """Return None when the cancel was accepted; the body of a success is not read.

    Raises:
        JobError: an error status, a 404 included (`JobNotFoundError`).
    """
    check_status(kind, "cancel", response)


def build_artifacts(job_id: str) -> HttpRequest:
    """Return the request that lists a transaction's artifacts."""
    return _request("GET", f"{_job_path(_LOGIC, job_id)}/artifacts")


def parse_artifacts(response: HttpResponse) -> dict[str, Any]:
    """Return the artifacts as ``{filename: {FILENAME: ..., OTHER_KEY: value...}}``.

    Each item of ``{"results": [...]}`` is keyed by its `filename`; its own keys are upper-cased,
    `FILENAME` kept, so an item reads the same as the SQL API's row. Null `results` is empty.

    Raises:
        JobError: an error status, a 404 included (`JobNotFoundError`), or an unusable body
            (`JobServerError`).
    """
    check_status(_LOGIC, "artifacts", response)
    body = json_body(_LOGIC, "artifacts", response)
    results = body["results"] if isinstance(body, dict) and "results" in body else body
    if results is None:
        return {}
    if not isinstance(results, list):
        raise JobServerError(f"Expected artifacts as {{'results': [...]}}, got {excerpt(body)}")
    return artifacts_by_filename(results)


def build_problems(job_id: str) -> HttpRequest:
    """Return the request that reads a transaction's problems."""
    return _request("GET", f"{_job_path(_LOGIC, job_id)}/problems")


def parse_problems(response: HttpResponse) -> dict[str, Any]:
    """Return the problems object as the server sent it.

    Raises:
        JobError: an error status, a 404 included (`JobNotFoundError`), or a body that is not a
            JSON object (`JobServerError`).
    """
    check_status(_LOGIC, "problems", response)
    body = json_body(_LOGIC, "problems", response)
    if not isinstance(body, dict):
        raise JobServerError(f"Expected a problems object from the server, got {excerpt(body)}")
    return body


class _ListParser(Interface[T]):
    def __call__(self, kind: ReasonerType, response: HttpResponse, *, untyped: bool) -> list[T]: ...


# Bound to each type once: a get is the call made most (every poll), and binding costs a tenth
# of a microsecond.
_GET_PARSERS = {kind: functools.partial(parse_get, kind) for kind in ReasonerType}
_GET_JOB_PARSERS = {kind: functools.partial(parse_get_job, kind) for kind in ReasonerType}


class HttpDialect:
    """The calls over the Direct Access API, sent under `config`'s retry policy, each request
    bounded by `deadline` (see `send_http`).

    Each method builds its request at once (so a request that cannot be built fails before any
    effect) and returns the protocol that sends it and parses the final response.
    """

    # A plain class: one is made per call, in half the time of an attrs class.
    __slots__ = ("config", "deadline")
    applies_filters: ClassVar[bool] = False
    """The service lists everything: the caller filters, sorts and slices."""

    def __init__(self, config: ClientConfig, deadline: Deadline | None = None) -> None:
        self.config = config
        self.deadline = deadline

    def _send(
        self,
        request: HttpRequest,
        parse: Callable[[HttpResponse], T],
        *,
        op: str,
        creates: bool = False,
    ) -> Protocol[T]:
        return send_http(
            self.config, request, parse, op=op, creates=creates, deadline=self.deadline
        )

    def get(self, kind: ReasonerType, job_id: str) -> Protocol[JobRecord | None]:
        """Return the protocol that reads one job or transaction (None: there is none)."""
        return self._send(build_get(kind, job_id), _GET_PARSERS[kind], op="get")

    def get_job(self, kind: ReasonerType, job_id: str) -> Protocol[Job | None]:
        """Return the protocol that reads one job or transaction as a `Job` (None: there is
        none)."""
        return self._send(build_get(kind, job_id), _GET_JOB_PARSERS[kind], op="get")

    def list_records(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        *,
        limit: int | None,
        offset: int,
    ) -> Protocol[list[JobRecord]]:
        """Return the protocol that lists every record of `kinds`, unfiltered, in server order.

        One answer lists every job type, so it is asked for once; a job without a type is taken
        to be of the first of `kinds` that reads that answer, so it is listed once.
        """
        return self._list(tuple(kinds), parse_list)

    def list_jobs(
        self,
        kinds: Sequence[ReasonerType],
        filters: ListFilters,
        *,
        limit: int | None,
        offset: int,
    ) -> Protocol[list[Job]]:
        """Return the protocol that lists every job of `kinds` as `list_records` does, as
        `Job`s."""
        return self._list(tuple(kinds), parse_list_jobs)

    def _list(self, kinds: tuple[ReasonerType, ...], parse: _ListParser[T]) -> Protocol[list[T]]:
        answers: dict[HttpRequest, HttpResponse] = {}
        found: list[T] = []
        for kind in kinds:
            request = build_list(kind)
            first = request not in answers
            if first:
                answers[request] = yield from send_http(
                    self.config, request, as_received, op="list", deadline=self.deadline
                )
            found += parse(kind, answers[request], untyped=first)
        return found

    def events(
        self, kind: ReasonerType, job_id: str, token: str, stream: str
    ) -> Protocol[JobEvents]:
        """Return the protocol that reads one page of event stream `stream` from `token` on."""
        request = build_events(kind, job_id, token, stream)
        return self._send(request, functools.partial(parse_events, kind), op="events")

    def create(
        self,
        kind: ReasonerType,
        name: str,
        payload: dict[str, Any],
        timeout_mins: int | None,
        *,
        abort_detached: bool,
    ) -> Protocol[str]:
        """Return the protocol that creates a job or transaction and returns its id.

        Raises:
            JobInvalidRequestError: the payload cannot be encoded as JSON.
        """
        request = build_create(kind, name, payload, timeout_mins, abort_detached=abort_detached)
        parse = functools.partial(parse_create, kind)
        return self._send(request, parse, op="create", creates=True)

    def cancel(self, kind: ReasonerType, job_id: str, *, all_users: bool) -> Protocol[None]:
        """Return the protocol that cancels a job or transaction.

        `all_users` is always False here: routing sends such a cancel to the SQL API.
        """
        request = build_cancel(kind, job_id)
        return self._send(request, functools.partial(parse_cancel, kind), op="cancel")

    def artifacts(self, job_id: str) -> Protocol[dict[str, Any]]:
        """Return the protocol that reads a transaction's artifacts."""
        return self._send(build_artifacts(job_id), parse_artifacts, op="artifacts")

    def problems(self, job_id: str) -> Protocol[dict[str, Any]]:
        """Return the protocol that reads a transaction's problems."""
        return self._send(build_problems(job_id), parse_problems, op="problems")
