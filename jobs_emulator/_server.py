"""The HTTP/1.1 server (trio + h11) that carries both APIs on one port.

One task per connection, keep-alive, bodies of any size (h11 handles Content-Length and chunked).
Each request is parsed into a `Request`, checked against the fault rules, routed by path and
answered with the handler's `Response`:
`/v1alpha1/...` → Direct Access, `/_emulator/...` → the admin API, anything else → the Snowflake
wire API. Handlers are plain functions that run on the server's thread between reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import attrs
import h11
import trio

from jobs_emulator._faults import Delay, Drop, Faults, Malformed, Respond, Truncate
from jobs_emulator._messages import Request, Response

Handler = Callable[[Request], Response]

_RECEIVE_SIZE = 65536
_log = logging.getLogger("jobs_emulator")


class Server:
    """The server: requests routed by path prefix to handlers, with faults applied."""

    def __init__(
        self, routes: list[tuple[str, Handler]], fallback: Handler, faults: Faults
    ) -> None:
        """`routes` are (path prefix, handler) pairs tried in order; `fallback` takes the rest."""
        self.routes = routes
        self.fallback = fallback
        self.faults = faults

    async def serve_connection(self, stream: trio.abc.Stream, port: int = 0) -> None:
        """Serve requests that arrive on the local `port` over one connection until either side
        ends it; the caller closes it."""
        connection = h11.Connection(h11.SERVER)
        served = 0
        try:
            while True:
                head = await _next_event(stream, connection)
                if not isinstance(head, h11.Request):
                    return
                request = _request(head, port)
                fault = self.faults.take(request.method, request.path)
                if isinstance(fault, Drop) and fault.before_request:
                    return
                body = await _read_body(stream, connection)
                if body is None:
                    return
                # A HEAD is answered as its GET would be, without the body (RFC 9110 §9.3.2).
                head_only = request.method == "HEAD"
                request = attrs.evolve(
                    request, body=body, method="GET" if head_only else request.method
                )
                if isinstance(fault, Delay):
                    await trio.sleep(fault.seconds)
                response = fault.response if isinstance(fault, Respond) else self.dispatch(request)
                if isinstance(fault, Drop):
                    return
                if isinstance(fault, Truncate):
                    await _send_truncated(stream, connection, response, head_only)
                    return
                if isinstance(fault, Malformed):
                    response = _malformed(response)
                await _send(stream, connection, response, head_only)
                served += 1
                if response.close or connection.our_state is h11.MUST_CLOSE:
                    return
                if self.faults.closes_after(served):
                    return
                connection.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            await _answer_protocol_error(stream, connection, exc)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        except Exception:  # one broken connection must not end the server that carries the rest
            _log.exception("connection failed")

    def dispatch(self, request: Request) -> Response:
        """Return the answer of the handler that owns the path; a handler crash answers 500."""
        handler = next(
            (handler for prefix, handler in self.routes if request.path.startswith(prefix)),
            self.fallback,
        )
        try:
            return handler(request)
        except Exception as exc:  # a handler bug must not take the connection or server down
            _log.exception("handler failed on %s %s", request.method, request.path)
            return Response.json(500, {"message": f"emulator error: {exc!r}"})


async def _next_event(stream: trio.abc.Stream, connection: h11.Connection) -> h11.Event | None:
    """Return the next h11 event, reading as needed; `None` when the peer has gone."""
    while True:
        event = connection.next_event()
        if isinstance(event, h11.Event):
            return event
        if event is h11.PAUSED:
            # Unreachable: we never read past one request per cycle. Ending is the safe answer.
            return None
        data = await stream.receive_some(_RECEIVE_SIZE)
        if not data and connection.their_state is h11.IDLE:
            return None
        connection.receive_data(bytes(data))


async def _read_body(stream: trio.abc.Stream, connection: h11.Connection) -> bytes | None:
    """Return the request body, or `None` when the peer went away before sending all of it."""
    if connection.they_are_waiting_for_100_continue:
        continue_ = h11.InformationalResponse(status_code=100, headers=[])
        await stream.send_all(connection.send(continue_))
    chunks: list[bytes] = []
    while True:
        event = await _next_event(stream, connection)
        if isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)
        else:
            return None


def _request(head: h11.Request, port: int) -> Request:
    target = urlsplit(head.target.decode("latin-1"))
    return Request(
        port=port,
        method=head.method.decode("ascii"),
        path=target.path,
        query=dict(parse_qsl(target.query, keep_blank_values=True)),
        headers={name.decode("latin-1"): value.decode("latin-1") for name, value in head.headers},
    )


def _head(response: Response, length: int) -> h11.Response:
    headers = [*response.headers, ("Content-Length", str(length))]
    if response.close:
        headers.append(("Connection", "close"))
    return h11.Response(
        status_code=response.status, headers=headers, reason=_reason(response.status)
    )


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:  # a status code Python does not name, e.g. from a fault rule
        return b""


async def _send(
    stream: trio.abc.Stream, connection: h11.Connection, response: Response, head_only: bool
) -> None:
    """Send `response`; only its head (and the length its body has) when `head_only`."""
    data = connection.send(_head(response, len(response.body)))
    data += (
        connection.send(h11.Data(data=response.body)) if response.body and not head_only else b""
    )
    data += connection.send(h11.EndOfMessage())
    await stream.send_all(data)


async def _send_truncated(
    stream: trio.abc.Stream, connection: h11.Connection, response: Response, head_only: bool
) -> None:
    """Send the head and half the body (no body for a HEAD); the caller then closes."""
    data = connection.send(_head(response, len(response.body)))
    if not head_only:
        data += connection.send(h11.Data(data=response.body[: len(response.body) // 2]))
    await stream.send_all(data)


def _malformed(response: Response) -> Response:
    """Return the response with a body that is not JSON (cut in half, then an unclosed string)."""
    return attrs.evolve(response, body=response.body[: len(response.body) // 2] + b'"\x00not json')


async def _answer_protocol_error(
    stream: trio.abc.Stream, connection: h11.Connection, exc: h11.RemoteProtocolError
) -> None:
    """Answer a request h11 could not parse with 400 when a response may still be sent."""
    if connection.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    response = Response.json(exc.error_status_hint, {"message": f"bad request: {exc}"})
    try:
        await _send(stream, connection, attrs.evolve(response, close=True), head_only=False)
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.LocalProtocolError):
        return
