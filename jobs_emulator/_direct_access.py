"""The Direct Access HTTP API (`/v1alpha1/jobs`, `/v1alpha1/transactions`) over the engine.

A handler from `Request` to `Response` that never touches sockets. Errors answer
`{"message": ...}` with 400 (invalid request), 401 (token missing or unknown), 403 (another user's
transaction), 404 (unknown id or path, "engine is not ready to accept jobs", and the stale-endpoint
message on a port the API has moved away from), 405 (known path, wrong method; `Allow` names the
methods it takes). Records carry ISO 8601 UTC timestamps (`...Z`); lists are newest first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs_emulator._auth import Authenticator, Unauthorized
from jobs_emulator._endpoint import DirectAccessEndpoint
from jobs_emulator._engine import Engine, parse_job_type
from jobs_emulator._errors import InvalidRequest, NotFound, NotReady, PermissionDenied
from jobs_emulator._faults import STALE_ENDPOINT_MESSAGE
from jobs_emulator._messages import Request, Response
from jobs_emulator._records import JobSnapshot
from jobs_emulator._timestamps import to_iso
from jobs_emulator._validation import flag, json_object, required_text

PREFIX = "/v1alpha1/"

_Route = Callable[[Request, str, list[str]], Response]
"""A route answers from the request, the caller's user and the path's wildcard segments."""


class DirectAccessApi:
    """The Direct Access API over the engine's store."""

    def __init__(
        self, engine: Engine, authenticator: Authenticator, endpoint: DirectAccessEndpoint
    ) -> None:
        self.engine = engine
        self.authenticator = authenticator
        self.endpoint = endpoint
        self._table: list[tuple[tuple[str, ...], dict[str, _Route]]] = [
            (("jobs",), {"GET": self._list_jobs, "POST": self._create_job}),
            (("jobs", "*", "*"), {"GET": self._get_job}),
            (("jobs", "*", "*", "events", "*"), {"GET": self._job_events}),
            (("jobs", "*", "*", "cancel"), {"POST": self._cancel_job}),
            (("transactions",), {"GET": self._list_transactions, "POST": self._create_transaction}),
            (("transactions", "*"), {"GET": self._get_transaction}),
            (("transactions", "*", "events", "*"), {"GET": self._transaction_events}),
            (("transactions", "*", "artifacts"), {"GET": self._artifacts}),
            (("transactions", "*", "problems"), {"GET": self._problems}),
            (("transactions", "*", "cancel_async"), {"POST": self._cancel_transaction}),
        ]

    def handle(self, request: Request) -> Response:
        """Return the response to one request whose path starts with `/v1alpha1/`."""
        if not self.endpoint.serves(request.port):
            return _error(404, STALE_ENDPOINT_MESSAGE)
        try:
            authorization = request.headers.get("authorization")
            user = self.authenticator.user_for(authorization, self.endpoint.address)
        except Unauthorized as exc:
            return _error(401, str(exc))
        match = self._match(request.segments(PREFIX))
        if match is None:
            return _error(404, f"no such endpoint: {request.path}")
        routes, wildcards = match
        route = routes.get(request.method.upper())
        if route is None:
            # RFC 9110 §15.5.6: a 405 names the methods the path takes (a GET answers HEAD too).
            allowed = sorted({*routes, *(["HEAD"] if "GET" in routes else [])})
            message = f"{request.method} is not allowed on {request.path}"
            return Response.json(405, {"message": message}, (("Allow", ", ".join(allowed)),))
        try:
            return route(request, user, wildcards)
        except InvalidRequest as exc:
            return _error(400, str(exc))
        except (NotFound, NotReady) as exc:
            return _error(404, str(exc))
        except PermissionDenied as exc:
            return _error(403, str(exc))

    def _match(self, segments: list[str]) -> tuple[dict[str, _Route], list[str]] | None:
        """Return the routes of the endpoint the path names and its wildcard segments."""
        for pattern, routes in self._table:
            if len(pattern) != len(segments):
                continue
            pairs = list(zip(pattern, segments, strict=True))
            if all(expected in ("*", actual) for expected, actual in pairs):
                return routes, [actual for expected, actual in pairs if expected == "*"]
        return None

    # -- jobs -------------------------------------------------------------------------------

    def _create_job(self, request: Request, user: str, _: list[str]) -> Response:
        body = json_object(request)
        payload = body.get("payload")
        if not isinstance(payload, (str, dict)):
            raise InvalidRequest("payload is required: the job's payload as a JSON string")
        job_id = self.engine.create_job(
            required_text(body.get("job_type"), "job_type"),
            required_text(body.get("worker_name", body.get("engine_name")), "worker_name"),
            payload,
            user=user,
            timeout_mins=body.get("timeout_mins"),
        )
        return Response.json(200, {"id": job_id})

    def _list_jobs(self, request: Request, user: str, _: list[str]) -> Response:
        return Response.json(200, {"jobs": [job_json(job) for job in self.engine.list_jobs()]})

    def _get_job(self, request: Request, user: str, path: list[str]) -> Response:
        job_type, job_id = path
        job = self.engine.get(job_id, kind=parse_job_type(job_type))
        return Response.json(200, {"job": job_json(job)})

    def _job_events(self, request: Request, user: str, path: list[str]) -> Response:
        job_type, job_id, stream = path
        page = self.engine.events(
            job_id,
            request.query.get("continuation_token"),
            kind=parse_job_type(job_type),
            stream=stream,
        )
        return Response.json(200, page.to_json())

    def _cancel_job(self, request: Request, user: str, path: list[str]) -> Response:
        job_type, job_id = path
        job = self.engine.cancel(job_id, kind=parse_job_type(job_type), user=user)
        return Response.json(200, {"id": job.id, "state": job.state})

    # -- transactions -----------------------------------------------------------------------

    def _create_transaction(self, request: Request, user: str, _: list[str]) -> Response:
        body = json_object(request)
        transaction_id = self.engine.create_transaction(
            database=required_text(_first(body, "database", "dbname", "database_name"), "database"),
            engine_name=required_text(body.get("engine_name"), "engine_name"),
            query=required_text(_first(body, "query", "raw_code", "code"), "query"),
            user=user,
            read_only=flag(body.get("readonly", True), "readonly"),
            language=required_text(body.get("language", "rel"), "language"),
            inputs=_first(body, "inputs", "v1_inputs"),
            headers=body.get("headers"),
            emulate=body.get("emulate"),
            timeout_mins=body.get("timeout_mins"),
            abort_detached=flag(body.get("abort_detached", False), "abort_detached"),
        )
        state = self.engine.get(transaction_id).state
        return Response.json(200, {"transaction": {"id": transaction_id, "state": state}})

    def _list_transactions(self, request: Request, user: str, _: list[str]) -> Response:
        transactions = [transaction_json(t) for t in self.engine.list_transactions()]
        return Response.json(200, {"transactions": transactions})

    def _get_transaction(self, request: Request, user: str, path: list[str]) -> Response:
        transaction = self.engine.get(path[0], kind="LOGIC")
        return Response.json(200, {"transaction": transaction_json(transaction)})

    def _transaction_events(self, request: Request, user: str, path: list[str]) -> Response:
        transaction_id, stream = path
        token = request.query.get("continuation_token")
        page = self.engine.events(transaction_id, token, kind="LOGIC", stream=stream, user=user)
        return Response.json(200, page.to_json())

    def _artifacts(self, request: Request, user: str, path: list[str]) -> Response:
        return Response.json(200, {"results": self.engine.artifacts(path[0], user=user)})

    def _problems(self, request: Request, user: str, path: list[str]) -> Response:
        return Response.json(200, {"problems": self.engine.problems(path[0], user=user)})

    def _cancel_transaction(self, request: Request, user: str, path: list[str]) -> Response:
        transaction = self.engine.cancel(path[0], kind="LOGIC", user=user)
        return Response.json(200, {"id": transaction.id, "state": transaction.state})


def job_json(job: JobSnapshot) -> dict[str, Any]:
    """Return a job as the Direct Access API shows it."""
    return {
        "id": job.id,
        "type": job.kind,
        "state": job.state,
        "worker_name": job.name,
        "created_by": job.created_by,
        "created_on": to_iso(job.created_on.timestamp()),
        "finished_at": None if job.finished_at is None else to_iso(job.finished_at.timestamp()),
        "duration": job.duration,
        "payload": job.payload,
        "timeout_ms": job.timeout_ms,
        "abort_reason": job.abort_reason,
    }


def transaction_json(transaction: JobSnapshot) -> dict[str, Any]:
    """Return a transaction as the Direct Access API shows it."""
    finished_at = transaction.finished_at
    return {
        "id": transaction.id,
        "database_name": transaction.database,
        "engine_name": transaction.name,
        "state": transaction.state,
        "abort_reason": transaction.abort_reason,
        "read_only": transaction.read_only,
        "created_by": transaction.created_by,
        "created_on": to_iso(transaction.created_on.timestamp()),
        "finished_at": None if finished_at is None else to_iso(finished_at.timestamp()),
        "duration": transaction.duration,
    }


def _error(status: int, message: str) -> Response:
    return Response.json(status, {"message": message})


def _first(body: dict[str, Any], *keys: str) -> Any:
    return next((body[key] for key in keys if body.get(key) is not None), None)
