"""The admin API (`/_emulator/...`): drive the engine from another process, e.g. the CLI's.

- `GET /_emulator/clock` → `{"now": ISO, "manual": bool}`
- `POST /_emulator/clock/advance` `{"seconds": N}` → `{"now": ISO}` (manual clock only, else 400)
- `POST /_emulator/scripts` `{"name": NAME, "emulate": {...} | null}` → default script per name
- `POST /_emulator/not_ready` `{"name": NAME, "not_ready": bool}`
- `POST /_emulator/reset` → forget every record, script and not-ready mark

No authentication: the emulator listens on loopback only.
"""

from __future__ import annotations

from jobs_emulator._clock import ManualClock
from jobs_emulator._engine import Engine
from jobs_emulator._errors import InvalidRequest
from jobs_emulator._messages import Request, Response
from jobs_emulator._timestamps import to_iso
from jobs_emulator._validation import finite_number, flag, json_object, required_text

PREFIX = "/_emulator/"


def handle(engine: Engine, request: Request) -> Response:
    """Return the response to one admin request (errors as `{"message": ...}` with 400/404)."""
    action = (request.method.upper(), request.path.rstrip("/"))
    try:
        if action == ("GET", "/_emulator/clock"):
            manual = isinstance(engine.clock, ManualClock)
            return Response.json(200, {"now": to_iso(engine.now()), "manual": manual})
        if action == ("POST", "/_emulator/clock/advance"):
            seconds = finite_number(json_object(request).get("seconds"))
            if seconds is None:
                raise InvalidRequest("seconds must be a finite number")
            return Response.json(200, {"now": to_iso(engine.advance(seconds))})
        if action == ("POST", "/_emulator/scripts"):
            body = json_object(request)
            engine.set_script(required_text(body.get("name"), "name"), body.get("emulate"))
            return Response.json(200, {})
        if action == ("POST", "/_emulator/not_ready"):
            body = json_object(request)
            not_ready = flag(body.get("not_ready", True), "not_ready")
            engine.set_not_ready(required_text(body.get("name"), "name"), not_ready)
            return Response.json(200, {})
        if action == ("POST", "/_emulator/reset"):
            engine.reset()
            return Response.json(200, {})
    except (InvalidRequest, TypeError, ValueError) as exc:
        return Response.json(400, {"message": str(exc)})
    message = f"no such admin endpoint: {request.method} {request.path}"
    return Response.json(404, {"message": message})
