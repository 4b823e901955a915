"""The admin API (`/_emulator/...`): drive the engine from another process, e.g. the CLI's.

- `GET /_emulator/clock` → `{"now": ISO, "manual": bool}`
- `POST /_emulator/clock/advance` `{"seconds": N}` → `{"now": ISO}` (manual clock only, else 400)
- `POST /_emulator/scripts` `{"name": NAME, "emulate": {...} | null}` → default script per name
- `POST /_emulator/not_ready` `{"name": NAME, "not_ready": bool}`
- `POST /_emulator/reset` → forget every record, script and not-ready mark

A known path asked with another method is a 405 with `Allow`. No authentication: anyone who can
reach the port can use it, so the emulator listens on loopback unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from jobs_emulator._clock import ManualClock
from jobs_emulator._engine import Engine
from jobs_emulator._errors import InvalidRequest
from jobs_emulator._messages import Request, Response
from jobs_emulator._timestamps import to_iso
from jobs_emulator._validation import finite_number, flag, json_object, required_text

PREFIX = "/_emulator/"


def _clock(engine: Engine, request: Request) -> Response:
    manual = isinstance(engine.clock, ManualClock)
    return Response.json(200, {"now": to_iso(engine.now()), "manual": manual})


def _advance(engine: Engine, request: Request) -> Response:
    seconds = finite_number(json_object(request).get("seconds"))
    if seconds is None:
        raise InvalidRequest("seconds must be a finite number")
    return Response.json(200, {"now": to_iso(engine.advance(seconds))})


def _script(engine: Engine, request: Request) -> Response:
    body = json_object(request)
    engine.set_script(required_text(body.get("name"), "name"), body.get("emulate"))
    return Response.json(200, {})


def _not_ready(engine: Engine, request: Request) -> Response:
    body = json_object(request)
    not_ready = flag(body.get("not_ready", True), "not_ready")
    engine.set_not_ready(required_text(body.get("name"), "name"), not_ready)
    return Response.json(200, {})


def _reset(engine: Engine, request: Request) -> Response:
    engine.reset()
    return Response.json(200, {})


_ROUTES: dict[str, tuple[str, Callable[[Engine, Request], Response]]] = {
    "/_emulator/clock": ("GET", _clock),
    "/_emulator/clock/advance": ("POST", _advance),
    "/_emulator/scripts": ("POST", _script),
    "/_emulator/not_ready": ("POST", _not_ready),
    "/_emulator/reset": ("POST", _reset),
}


def handle(engine: Engine, request: Request) -> Response:
    """Return the response to one admin request (errors as `{"message": ...}` with 400, 404, or
    405 with `Allow` for a known path asked with another method)."""
    route = _ROUTES.get(request.path.rstrip("/"))
    if route is None:
        message = f"no such admin endpoint: {request.method} {request.path}"
        return Response.json(404, {"message": message})
    method, answer = route
    if request.method.upper() != method:
        allowed = "GET, HEAD" if method == "GET" else method
        message = f"{request.method} is not allowed on {request.path}"
        return Response.json(405, {"message": message}, (("Allow", allowed),))
    try:
        return answer(engine, request)
    except (InvalidRequest, TypeError, ValueError) as exc:
        return Response.json(400, {"message": str(exc)})
