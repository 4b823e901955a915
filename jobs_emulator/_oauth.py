"""`POST /oauth/token`: the JWT-bearer exchange of a key-pair JWT for a Direct Access token.

It lives with the SQL API, on the host and port of `emu.snowflake`, as it lives on the account's
host in Snowflake. The request is form-encoded (docs/connecting.md):
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion=<JWT>`,
`scope=[session:role:ROLE ]HOST:PORT` where `HOST:PORT` is the Direct Access endpoint without a
scheme. The answer's body is the token itself (a JWT whose `exp` says when it expires).
Errors answer `{"error": ..., "message": ...}`: 400 for a malformed request or a scope that does not
name the endpoint (an endpoint the API moved away from gets the stale-endpoint message), 401 for a
JWT that does not prove a registered user, 405 for another method.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from jobs_emulator._auth import Authenticator, Unauthorized
from jobs_emulator._endpoint import DirectAccessEndpoint
from jobs_emulator._faults import STALE_ENDPOINT_MESSAGE
from jobs_emulator._messages import Request, Response

PATH = "/oauth/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_ROLE_PREFIX = "session:role:"


class _BadRequest(Exception):
    """The exchange request is malformed; the message is safe to show."""


class OAuthApi:
    """The `/oauth/token` endpoint."""

    def __init__(self, authenticator: Authenticator, endpoint: DirectAccessEndpoint) -> None:
        self.authenticator = authenticator
        self.endpoint = endpoint

    def handle(self, request: Request) -> Response:
        """Return the answer to one request whose path starts with `/oauth/`."""
        if request.path.rstrip("/") != PATH:
            return _error(404, "invalid_request", f"no such endpoint: {request.path}")
        if request.method.upper() != "POST":
            message = f"{request.method} is not allowed on {PATH}"
            body = {"error": "invalid_request", "message": message}
            return Response.json(405, body, (("Allow", "POST"),))
        try:
            form = _form(request.body)
            if form.get("grant_type") != GRANT_TYPE:
                raise _BadRequest(f"grant_type must be {GRANT_TYPE}")
            assertion = form.get("assertion")
            if not assertion:
                raise _BadRequest("assertion is required: the key-pair JWT")
            role = self._role_for(form.get("scope", ""))
        except _BadRequest as exc:
            return _error(400, "invalid_request", str(exc))
        try:
            token = self.authenticator.exchange(assertion, self.endpoint.address, role)
        except Unauthorized as exc:
            return _error(401, "invalid_grant", str(exc))
        return Response(200, token.encode(), (("Content-Type", "text/plain"),))

    def _role_for(self, scope: str) -> str | None:
        """Return the role a scope names (or `None`) once its endpoint is checked.

        Raise `_BadRequest` unless the scope names the current Direct Access endpoint.
        """
        parts = scope.split()
        roles = [part[len(_ROLE_PREFIX) :] for part in parts if part.startswith(_ROLE_PREFIX)]
        hosts = [part for part in parts if not part.startswith(_ROLE_PREFIX)]
        current = self.endpoint.address
        if len(hosts) == 1 and len(roles) <= 1:
            if hosts[0].casefold() == current.casefold():
                return roles[0] if roles else None
            if self.endpoint.retired(hosts[0]):
                raise _BadRequest(f"{STALE_ENDPOINT_MESSAGE} (scope {hosts[0]})")
        raise _BadRequest(
            f"scope must be '[session:role:ROLE ]{current}' (the Direct Access endpoint, host"
            f" and port without a scheme), got {scope!r}"
        )


def _form(body: bytes) -> dict[str, str]:
    """Return the fields of a form-encoded body (a repeated name keeps its last value)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise _BadRequest("the body must be form-encoded UTF-8 text") from None
    return {name: values[-1] for name, values in fields.items()}


def _error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"error": code, "message": message})
