"""Snowflake's HTTP wire protocol, enough for `snowflake-connector-python` (4.x and 5.x) to run the
SQL API of `jobs_emulator._sql_statements` against the engine.

Endpoints (all `POST`; request bodies are JSON, possibly gzip-encoded; answers are JSON with
`success`, `code`, `message`, `data`, always HTTP 200 as Snowflake does for statement errors):

- `/session/v1/login-request`: the `LOGIN_NAME` is the caller's user (`created_by` of what it
  creates). Without registered users any account and password log in; with users, only a key-pair
  (`SNOWFLAKE_JWT`, the JWT in `data.TOKEN`) or PAT (`PROGRAMMATIC_ACCESS_TOKEN`, the PAT in
  `data.TOKEN`) login of a registered user does (`jobs_emulator._auth`); a refused login answers
  code 390144 (key pair) or 390100. Answers `token`, `masterToken` and `sessionId`, and the
  session parameters `TIMEZONE=UTC` (timestamps arrive as UTC datetimes) and
  `CLIENT_TELEMETRY_ENABLED=false` (the connector need not send telemetry).
- `/queries/v1/query-request`: runs `sqlText` with `bindings`
  (`{"1": {"type": "TEXT", "value": "ML"}, ...}`; values are text or null, typed by `type`) and
  answers in the JSON result format (`jobs_emulator._snowflake_results`).
- `/queries/v1/abort-request`: statements run at once, so the only ones to abort are those a
  `delay` fault holds: one whose `requestId` (the query string of its query request) an abort
  names before it runs fails as cancelled (000604, SQLSTATE 57014) and never runs, as a statement
  Snowflake cancels. The last `ABORTS_KEPT` aborted ids are remembered.
- `/session/heartbeat` (sessions never expire), `/telemetry/send`, `/session?delete=true`:
  acknowledged.

A session token is the user name and a session id of the login, encoded: any number of
connections, and a token survives an emulator restart. The only session state is the set of
sessions a `lost_session` fault ended (`lose_session`): a statement on one of them fails with code
390111 ("Session no longer exists"), as on Snowflake, until the client logs in again. A query
without a token this API issued fails with code 390101.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import itertools
import uuid
from collections.abc import Callable
from typing import Any

from jobs_emulator._auth import (
    ACCOUNT,
    DEFAULT_USER,
    KEY_PAIR,
    Authenticator,
    Unauthorized,
    authorization_token,
)
from jobs_emulator._endpoint import DirectAccessEndpoint
from jobs_emulator._engine import Engine
from jobs_emulator._messages import Request, Response, parse_json
from jobs_emulator._snowflake_results import SqlError, error_body, result_body
from jobs_emulator._sql_routines import Session
from jobs_emulator._sql_statements import Namespace, execute

_TOKEN_PREFIX = "emulator-session."
ABORTS_KEPT = 1024
"""How many aborted statements' request ids the API remembers (each is matched once)."""
LOST_SESSION_CODE = "390111"
LOST_SESSION_MESSAGE = "Session no longer exists.  New login required to access the service."
_SESSION_PARAMETERS = [
    {"name": "TIMEZONE", "value": "UTC"},
    {"name": "CLIENT_TELEMETRY_ENABLED", "value": False},
]


def connect_kwargs(host: str, port: int, user: str = DEFAULT_USER) -> dict[str, Any]:
    """Return keyword arguments for `snowflake.connector.connect` that reach the emulator at
    `host:port` over plain HTTP, quickly, and never anything else.

    `user` is who you are (each login name is one user): `serve()` passes the Direct Access
    API's default user, so that a client is the same user over either API. The connector also
    needs `SNOWFLAKE_DISABLE_PLATFORM_DETECTION` set (`serve()` sets it), or every login probes
    cloud metadata endpoints.
    """
    return {
        "protocol": "http",
        # The connector writes `{protocol}://{host}:{port}`: an IPv6 address needs its brackets.
        "host": f"[{host}]" if ":" in host else host,
        "port": port,
        "account": ACCOUNT,
        "user": user,
        # Clients mask their secrets wherever they appear in replies: a password that is part of
        # the user's name ("emulator" in "emulator_user") would mask every `created_by`.
        "password": "emulator-password",
        "paramstyle": "qmark",
        # Loopback must not go through a proxy taken from the environment.
        "no_proxy": host,
        "login_timeout": 10,
        "client_session_keep_alive": False,
        # 5.x warns when this is left unset; False means that closing always logs out.
        "enable_server_session_keep_alive_auto_detection": False,
    }


class SnowflakeApi:
    """The Snowflake wire API (login, queries) over the engine's store."""

    def __init__(
        self,
        engine: Engine,
        authenticator: Authenticator,
        endpoint: DirectAccessEndpoint,
        app: str | None = None,
    ) -> None:
        """`app` is the application name statements must use (`{app}.api.NAME`); `None` accepts
        any."""
        self.engine = engine
        self.authenticator = authenticator
        self.endpoint = endpoint
        self.namespace = Namespace(app)
        # Handlers all run on the server's thread: these need no lock.
        self._session_ids = itertools.count(1)
        self._lost_sessions: set[str] = set()
        """The ids of the sessions `lose_session` ended."""
        self._aborted: dict[str, None] = {}
        """The request ids of the statements aborted before they ran, oldest first."""

    def handle(self, request: Request) -> Response:
        """Return the answer to one request on a Snowflake wire path.

        Unknown paths answer 404; a body that is not (possibly gzip-encoded) JSON answers 400.
        """
        route = _ROUTES.get((request.method.upper(), request.path.rstrip("/")))
        if route is None:
            return _failure(404, "390404", f"no such endpoint: {request.method} {request.path}")
        try:
            body = _body(request)
        except ValueError as exc:
            return _failure(400, "390400", f"the request body is not JSON: {exc}")
        return route(self, request, body)

    def _login(self, request: Request, body: Any) -> Response:
        data = body.get("data") if isinstance(body, dict) else None
        data = data if isinstance(data, dict) else {}
        login_name = data.get("LOGIN_NAME")
        if not isinstance(login_name, str) or not login_name.strip():
            return _failure(200, "390100", "Incorrect username or password was specified.")
        authenticator = data.get("AUTHENTICATOR")
        token = data.get("TOKEN")
        try:
            user = self.authenticator.sql_login(
                login_name,
                authenticator if isinstance(authenticator, str) else None,
                token if isinstance(token, str) else None,
            )
        except Unauthorized as exc:
            code = "390144" if str(authenticator).upper() == KEY_PAIR else "390100"
            return _failure(200, code, f"Authentication failed: {exc}")
        session_id = next(self._session_ids)
        encoded = base64.urlsafe_b64encode(user.encode()).decode()
        token = f"{_TOKEN_PREFIX}{encoded}.{session_id}"
        return _success(
            {
                "token": token,
                "masterToken": token,
                "sessionId": session_id,
                "validityInSeconds": 3600,
                "masterValidityInSeconds": 14400,
                "parameters": _SESSION_PARAMETERS,
                "sessionInfo": {
                    "databaseName": None,
                    "schemaName": None,
                    "warehouseName": None,
                    "roleName": "PUBLIC",
                },
            }
        )

    def lose_session(self, request: Request) -> Response:
        """End the session `request` carries (if any) for good; return Snowflake's answer to a
        statement on a session that no longer exists."""
        login = _session(request)
        if login is not None and login[1]:
            self._lost_sessions.add(login[1])
        return _lost_session()

    def _query(self, request: Request, body: Any) -> Response:
        login = _session(request)
        if login is None:
            return _failure(
                200, "390101", "Authentication token is missing or invalid; log in first."
            )
        user, session_id = login
        if session_id in self._lost_sessions:
            return _lost_session()
        query_id = str(uuid.uuid4())
        request_id = request.query.get("requestId")
        if request_id is not None and request_id in self._aborted:
            del self._aborted[request_id]
            canceled = SqlError("SQL execution canceled", code="000604", sql_state="57014")
            return Response.json(200, error_body(canceled, query_id))
        try:
            sql, params = _statement(body)
            session = Session(user, self.endpoint)
            result = execute(self.engine, sql, params, session, self.namespace)
        except SqlError as exc:
            return Response.json(200, error_body(exc, query_id))
        return Response.json(200, result_body(result, query_id))

    def _abort(self, request: Request, body: Any) -> Response:
        request_id = body.get("requestId") if isinstance(body, dict) else None
        if isinstance(request_id, str) and request_id:
            self._aborted[request_id] = None
            while len(self._aborted) > ABORTS_KEPT:
                del self._aborted[next(iter(self._aborted))]
        return _success(None)

    def _acknowledge(self, request: Request, body: Any) -> Response:
        return _success(None)


_Route = Callable[[SnowflakeApi, Request, Any], Response]

_ROUTES: dict[tuple[str, str], _Route] = {
    ("POST", "/session/v1/login-request"): SnowflakeApi._login,
    ("POST", "/queries/v1/query-request"): SnowflakeApi._query,
    ("POST", "/queries/v1/abort-request"): SnowflakeApi._abort,
    ("POST", "/session/heartbeat"): SnowflakeApi._acknowledge,
    ("POST", "/telemetry/send"): SnowflakeApi._acknowledge,
    ("POST", "/session"): SnowflakeApi._acknowledge,
}


def _statement(body: Any) -> tuple[str, list[Any]]:
    """Return the SQL text and the positional parameter values of a query request.

    Raise `SqlError` for a body without `sqlText` or with bindings that are not numbered 1..n.
    """
    sql = body.get("sqlText") if isinstance(body, dict) else None
    if not isinstance(sql, str):
        raise SqlError("the query request has no sqlText", code="000900", sql_state="42601")
    bindings = body.get("bindings") or {}
    if not isinstance(bindings, dict) or sorted(bindings, key=_position) != [
        str(n) for n in range(1, len(bindings) + 1)
    ]:
        raise SqlError(
            f"bindings must be numbered 1..n, got {sorted(bindings)!r}",
            code="002049",
            sql_state="42601",
        )
    return sql, [_bound_value(bindings[str(n)]) for n in range(1, len(bindings) + 1)]


def _position(key: Any) -> int:
    return int(key) if isinstance(key, str) and key.isdigit() else -1


def _bound_value(binding: Any) -> Any:
    """Return the Python value of one binding: TEXT → str, FIXED → int, REAL → float, BOOLEAN →
    bool, null → None; other types keep their text.

    Raise `SqlError` for a binding that is not `{"type": ..., "value": ...}` or a value that does
    not parse as its type.
    """
    if not isinstance(binding, dict) or "value" not in binding:
        raise SqlError(f"malformed binding {binding!r}", code="002049", sql_state="42601")
    value, kind = binding["value"], str(binding.get("type", "TEXT")).upper()
    if value is None:
        return None
    try:
        if kind == "FIXED":
            return int(value) if str(value).lstrip("-").isdigit() else float(value)
        if kind == "REAL":
            return float(value)
    except ValueError:
        raise SqlError(
            f"bound value {value!r} is not a valid {kind}", code="100038", sql_state="22018"
        ) from None
    if kind == "BOOLEAN":
        return str(value).strip().lower() in ("true", "1")
    return value


def _session(request: Request) -> tuple[str, str] | None:
    """Return the user and the session id of the request's session token (the id is empty for
    a token of an emulator that issued none), or None without a token this API issued."""
    token = authorization_token(request.headers.get("authorization")) or ""
    if not token.startswith(_TOKEN_PREFIX):
        return None
    # The base64url alphabet has no ".": what follows the first one is the session id.
    encoded, _, session_id = token[len(_TOKEN_PREFIX) :].partition(".")
    try:
        return base64.urlsafe_b64decode(encoded.encode()).decode(), session_id
    except (binascii.Error, UnicodeDecodeError):
        return None


def _body(request: Request) -> Any:
    """Return the parsed JSON body (`None` when empty); raise `ValueError` when it is not JSON."""
    data = request.body
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"bad gzip body: {exc}") from None
    return parse_json(data) if data.strip() else None


def _success(data: Any) -> Response:
    return Response.json(200, {"success": True, "code": None, "message": None, "data": data})


def _lost_session() -> Response:
    """Return Snowflake's answer to a statement whose session no longer exists (HTTP 200)."""
    code = LOST_SESSION_CODE
    data = {"errorCode": code, "sqlState": None, "queryId": None, "internalError": False}
    body = {"success": False, "code": code, "message": LOST_SESSION_MESSAGE, "data": data}
    return Response.json(200, {**body, "headers": None})


def _failure(status: int, code: str, message: str) -> Response:
    body = {"success": False, "code": code, "message": message, "data": None}
    return Response.json(status, body)
