"""The HTTP/1.1 server (asyncio protocols + httptools) that carries every API on its ports.

One protocol object per connection: httptools parses the bytes as they arrive (Content-Length
and chunked bodies, pipelined requests), each whole request is checked against the
fault rules, routed by path prefix and answered with the handler's `Response`, in the order the
requests came: `/v1alpha1/...` → Direct Access, `/_emulator/...` → the admin API, `/oauth/...` →
the token exchange, anything else → the Snowflake wire API. Handlers are plain functions that run
on the server's thread. Keep-alive as HTTP/1.1 says (an HTTP/1.0 client or `Connection: close`
gets `Connection: close` and a close); `Expect: 100-continue` gets its interim answer; a `HEAD` is
answered as its `GET` without the body; bytes that are not HTTP get a 400 and a close.

A client cannot make the server hold more than the limits below (docs/emulator.md, "Limits"): a
body, URL or header block over its cap is refused (413, 414, 431) as soon as it passes the cap,
never buffered past it; and the server reads no further ahead of its answers than a few requests
(or what one read holds), nor while the client leaves the answers unread (asyncio's flow control
pauses reading), so a client that pipelines without reading only fills its own socket.

Answers are written byte for byte as h11 wrote them when it carried this server (the golden-bytes
test holds them to it): httptools parses in C and the answer is one formatted string, which cost a
third of the CPU per request of trio + h11 (bench/emulator_rate.py).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import attrs
import httptools

from jobs_emulator._faults import (
    Delay,
    Drop,
    Fault,
    Faults,
    LoseSession,
    Malformed,
    Respond,
    Truncate,
)
from jobs_emulator._messages import BODILESS, Request, Response

Handler = Callable[[Request], Response]

_log = logging.getLogger("jobs_emulator")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest request body (declared by `Content-Length` or received chunked); more is a 413."""
MAX_URL_BYTES = 8 * 1024
"""The longest request target (path and query, as sent); longer is a 414."""
MAX_HEADER_FIELDS = 100
"""The most header fields in a request; more is a 431."""
MAX_HEADER_BYTES = 64 * 1024
"""The most bytes of header names and values in a request; more is a 431."""
READ_AHEAD_REQUESTS = 16
"""How many requests may wait for their answers before the server stops reading the connection."""
READ_AHEAD_BYTES = 1024 * 1024
"""How many body bytes of waiting requests the server holds before it stops reading."""
LINGER_S = 10.0
"""How long a connection that got a refusal still reads (and drops) what its client sends."""

_READ_SIZE = 16 * 1024
"""The most bytes one read takes from a connection: it bounds the requests one read can queue."""
_HEAD_GUARD = MAX_URL_BYTES + MAX_HEADER_BYTES + 2 * _READ_SIZE
"""The bytes after which a head (or a chunk's size line, or trailer fields) that has not ended is
refused (431). It is counted a read at a time, from the read it starts in, so the count overshoots
by at most a read; a second read's worth covers the syntax of the request line and header lines.
A head within the limits never reaches it; it stops a header line that never ends, which
httptools would otherwise accumulate without bound."""


class Server:
    """The server: requests routed by path prefix to handlers, with faults applied."""

    def __init__(
        self,
        routes: list[tuple[str, Handler]],
        fallback: Handler,
        faults: Faults,
        lose_session: Handler,
    ) -> None:
        """`routes` are (path prefix, handler) pairs tried in order; `fallback` takes the rest;
        `lose_session` ends the session of a request a `lost_session` rule fired on and answers
        it."""
        self.routes = routes
        self.fallback = fallback
        self.faults = faults
        self.lose_session = lose_session
        self.connections: set[Connection] = set()
        """The open connections, so that stopping the server can close them."""
        # Every connection reads into this one buffer and parses it before the read returns, so
        # idle connections hold no buffer; the server's connections all run on one loop.
        self.read_buffer = memoryview(bytearray(_READ_SIZE))

    def protocol(self, port: int) -> Connection:
        """Return the protocol for a new connection on the local `port`."""
        return Connection(self, port)

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


@attrs.define
class _Exchange:
    """One request on a connection, from its head to its answer."""

    request: Request
    fault: Fault | None
    head_only: bool
    keep_alive: bool = True
    expects_continue: bool = False
    body: bytes | bytearray = b""
    """The body received so far: as httptools gave it while it is one piece, then gathered in a
    bytearray (a list of pieces would cost an object per piece, 40 bytes per 1-byte chunk)."""
    complete: bool = False
    delayed: bool = False

    def whole_request(self) -> Request:
        """Return the request with its body (once `complete`)."""
        head = self.request
        body = bytes(self.body)  # the same object when it is bytes already
        return Request(head.method, head.path, head.query, head.headers, body, head.port)


@attrs.frozen
class _Refusal:
    """Where the next request should have been: bytes that are not HTTP, or a request over a
    limit. It is answered with `status` and `message`, and the connection closes."""

    status: int
    message: str


class _Refused(Exception):
    """Raised in a parser callback to stop parsing: the request is refused with `refusal`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.refusal = _Refusal(status, message)


class Connection(asyncio.BufferedProtocol):
    """One client connection: requests parsed as they arrive and answered in order."""

    def __init__(self, server: Server, port: int) -> None:
        self._server = server
        self._port = port
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._queue: collections.deque[_Exchange | _Refusal] = collections.deque()
        self._waiting_bytes = 0
        """Body bytes of the complete requests in the queue."""
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._head_read: int | None = None
        """Bytes read since the head being parsed began (at most a read too many), or `None`
        between heads."""
        self._reading: _Exchange | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._refused = False
        self._writing_paused = False
        self._reading_paused = False
        self._served = 0

    # -- asyncio -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        if self._linger is not None:
            self._linger.cancel()
        # A request waiting out a delay is still handled when the delay ends (`_resume`), as by
        # a server that has read it; what came after it is not.
        while len(self._queue) > (0 if self._timer is None else 1):
            self._queue.pop()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._server.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self._refused:
            return  # what follows a refusal is read and dropped while the connection lingers
        try:
            self._parser.feed_data(self._server.read_buffer[:nbytes])
            if self._head_read is not None:
                self._head_read += nbytes
                if self._head_read > _HEAD_GUARD:
                    raise _Refused(431, "request headers too large: the head does not end")
        except _Refused as exc:
            self._refuse(exc.refusal)
        except httptools.HttpParserUpgrade:
            self._refuse(_Refusal(400, "bad request: protocol upgrades are not supported"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__  # what a callback raised
            if isinstance(cause, _Refused):
                self._refuse(cause.refusal)
            elif cause is not None:  # the emulator's bug, not the client's: as a handler crash
                _log.error("parsing failed", exc_info=cause)
                self._refuse(_Refusal(500, f"emulator error: {cause!r}"))
            else:
                self._refuse(_Refusal(400, f"bad request: {exc or exc.__class__.__name__}"))
        self._serve_queue()

    def pause_writing(self) -> None:
        # The client is not reading its answers: answer no more until it does (`_serve_queue`
        # stops reading too), so its answers wait in its socket, not in this process.
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._serve_queue()

    def abort(self) -> None:
        """Close the connection now, whatever it was doing."""
        if self._transport is not None:
            self._transport.abort()

    # -- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._header_bytes = 0
        self._head_read = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_URL_BYTES:
            raise _Refused(414, f"request URL too long: more than {MAX_URL_BYTES} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        self._header_bytes += len(name) + len(value)
        if len(self._headers) > MAX_HEADER_FIELDS or self._header_bytes > MAX_HEADER_BYTES:
            raise _Refused(
                431,
                f"request headers too large: more than {MAX_HEADER_FIELDS} fields"
                f" or {MAX_HEADER_BYTES} bytes",
            )

    def on_headers_complete(self) -> None:
        self._head_read = None
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self._headers
        }
        declared = headers.get("content-length")
        # httptools accepts only digits there, and a second, different length is an error.
        if declared is not None and int(declared) > MAX_BODY_BYTES:
            raise _Refused(413, f"request body too large: more than {MAX_BODY_BYTES} bytes")
        try:
            target = urlsplit(self._url.decode("latin-1"))
        except ValueError:  # e.g. `//[` is an unclosed IPv6 authority
            raise _Refused(400, "bad request: the request target is not a URL") from None
        method = self._parser.get_method().decode("ascii")
        head_only = method == "HEAD"
        request = Request(
            # A HEAD is answered as its GET would be, without the body (RFC 9110 §9.3.2).
            method="GET" if head_only else method,
            path=target.path,
            query=dict(parse_qsl(target.query, keep_blank_values=True)),
            headers=headers,
            port=self._port,
        )
        http_11 = self._parser.get_http_version() == "1.1"
        exchange = _Exchange(
            request,
            self._server.faults.take(method, target.path),
            head_only,
            expects_continue=http_11 and headers.get("expect", "").lower() == "100-continue",
        )
        self._reading = exchange
        self._queue.append(exchange)

    def on_body(self, body: bytes) -> None:
        exchange = self._reading
        assert exchange is not None
        self._head_read = None
        held = exchange.body
        if len(held) + len(body) > MAX_BODY_BYTES:
            raise _Refused(413, f"request body too large: more than {MAX_BODY_BYTES} bytes")
        if not held:
            exchange.body = body
        elif isinstance(held, bytearray):
            held += body
        else:
            gathered = bytearray(held)
            gathered += body
            exchange.body = gathered

    def on_chunk_header(self) -> None:
        # Until the chunk's data comes, or through the trailer fields after the last chunk (which
        # count with the headers), httptools may hold what arrives: it is counted as a head is.
        self._head_read = 0

    def on_chunk_complete(self) -> None:
        self._head_read = None

    def on_message_complete(self) -> None:
        exchange = self._reading
        assert exchange is not None
        exchange.complete = True
        self._waiting_bytes += len(exchange.body)
        # As h11 did: keep-alive only with HTTP/1.1 peers that did not ask to close.
        http_11 = self._parser.get_http_version() == "1.1"
        exchange.keep_alive = http_11 and self._parser.should_keep_alive()
        self._reading = None

    # -- answering -----------------------------------------------------------------------

    def _refuse(self, refusal: _Refusal) -> None:
        """Queue `refusal` in place of the request being read, and read no more requests."""
        self._refused = True
        if self._reading is not None:  # it is the last one queued
            self._queue.pop()
            self._reading = None
        self._queue.append(refusal)

    def _serve_queue(self) -> None:
        """Answer what is ready; read on only while the answers are taken and few requests wait."""
        self._answer_what_is_ready()
        backlogged = (
            self._writing_paused
            or len(self._queue) > READ_AHEAD_REQUESTS
            or self._waiting_bytes > READ_AHEAD_BYTES
        )
        if backlogged is not self._reading_paused:
            self._reading_paused = backlogged
            transport = self._transport
            assert transport is not None
            if backlogged:
                transport.pause_reading()
            else:
                transport.resume_reading()

    def _answer_what_is_ready(self) -> None:
        """Answer the queued requests in order until one must wait (for its body or a delay) or
        the client is not taking its answers."""
        transport = self._transport
        assert transport is not None, "data before connection_made"
        try:
            while (
                self._queue
                and self._timer is None
                and not self._writing_paused
                and not transport.is_closing()
            ):
                exchange = self._queue[0]
                if isinstance(exchange, _Refusal):
                    self._queue.clear()
                    self._waiting_bytes = 0
                    self._answer_refusal(exchange)
                    return
                if isinstance(exchange.fault, Drop) and exchange.fault.before_request:
                    transport.close()
                    return
                if not exchange.complete:
                    if exchange.expects_continue:
                        exchange.expects_continue = False
                        transport.write(_CONTINUE)
                    return
                if isinstance(exchange.fault, Delay) and not exchange.delayed:
                    exchange.delayed = True
                    loop = asyncio.get_running_loop()
                    self._timer = loop.call_later(exchange.fault.seconds, self._resume)
                    return
                self._queue.popleft()
                self._waiting_bytes -= len(exchange.body)
                self._answer(exchange)
        except Exception:  # one broken connection must not end the server that carries the rest
            _log.exception("connection failed")
            transport.close()

    def _answer_refusal(self, refusal: _Refusal) -> None:
        """Answer `refusal`, then close when the client closes its side, or `LINGER_S` later.

        Closing with the client's bytes unread would reset the connection, and a client still
        writing its body (most write the whole request before they read) would never see the
        answer: so the server shuts its sending side only, and drops what still comes.
        """
        transport = self._transport
        assert transport is not None
        answer = Response.json(refusal.status, {"message": refusal.message})
        transport.write(_encode(answer, head_only=False, keep_alive=False))
        transport.write_eof()
        loop = asyncio.get_running_loop()
        self._linger = loop.call_later(LINGER_S, transport.close)

    def _resume(self) -> None:
        self._timer = None
        assert self._transport is not None
        if self._transport.is_closing():
            # The client left during the delay: the request takes effect, nobody hears of it.
            exchange = self._queue.popleft()
            assert isinstance(exchange, _Exchange)
            self._server.dispatch(exchange.whole_request())
            return
        self._serve_queue()

    def _answer(self, exchange: _Exchange) -> None:
        transport = self._transport
        assert transport is not None, "an answer before connection_made"
        fault = exchange.fault
        if isinstance(fault, Respond):
            response = fault.response
        elif isinstance(fault, LoseSession):
            response = self._server.lose_session(exchange.whole_request())
        else:
            response = self._server.dispatch(exchange.whole_request())
        if isinstance(fault, Drop):
            transport.close()
            return
        if isinstance(fault, Malformed):
            response = attrs.evolve(
                response, body=response.body[: len(response.body) // 2] + b'"\x00not json'
            )
        keep_alive = exchange.keep_alive and not response.close
        data = _encode(response, head_only=exchange.head_only, keep_alive=keep_alive)
        if isinstance(fault, Truncate):
            # The head and half the body, then a close: the message ends short.
            short = 0 if exchange.head_only else len(response.body) - len(response.body) // 2
            transport.write(data[: len(data) - short])
            transport.close()
            return
        transport.write(data)
        self._served += 1
        if not keep_alive or self._server.faults.closes_after(self._served):
            transport.close()


def _encode(response: Response, *, head_only: bool, keep_alive: bool) -> bytes:
    """Return `response` as bytes: its head (with `Content-Length`, and `Connection: close` when
    the connection ends after it) and its body, unless `head_only`.

    Raises `ValueError` for an answer HTTP forbids (a status out of range, a body on a 1xx, 204
    or 304), which ends its connection only.
    """
    status = response.status
    if not 200 <= status <= 999 or (status in BODILESS and response.body):
        raise ValueError(f"cannot send a {status} answer with a {len(response.body)}-byte body")
    lines = [f"HTTP/1.1 {status} {_reason(status)}\r\n"]
    lines += [
        f"{name}: {value}\r\n"
        for name, value in response.headers
        if keep_alive or name.lower() != "connection"
    ]
    lines.append(f"Content-Length: {len(response.body)}\r\n")
    if not keep_alive:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    head = "".join(lines).encode("latin-1")
    return head if head_only else head + response.body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status code Python does not name, e.g. from a fault rule
        return ""
