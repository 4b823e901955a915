"""A loopback HTTP server that answers each request with whatever a test scripts: oversized,
malformed, desynchronised or truncated responses.

Each request is read whole (its head, then the body its Content-Length announces), unless the
answer says to answer early. Every wait is bounded (`HOLD_S`) and ends at once when the fixture
stops the server; an endless body stops at `STREAM_LIMIT` bytes: a client that never gives up
makes its test fail, never hang or fill the memory.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from collections.abc import Callable, Sequence

from tests.drivers.loopback_server import HOLD_S, LoopbackServer

STREAM_LIMIT = 512 << 20
"""The most bytes one streamed body sends: far past the client's cap."""
_PIECE = b"x" * 65_536

JOB_ID = "j-hostile"


def job_answer(job_id: str = JOB_ID, *, extra_headers: str = "") -> bytes:
    """Return a whole 200 response holding job `job_id` (as the Jobs API answers a get)."""
    body = json.dumps(
        {
            "job": {
                "id": job_id,
                "type": "ML",
                "state": "CREATED",
                "worker_name": "forecaster",
                "created_by": "someone",
                "created_on": "2026-01-01T00:00:00.000Z",
                "payload": "{}",
            }
        }
    ).encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra_headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Exchange:
    """One request the server read, and the means to answer it."""

    def __init__(self, server: HostileServer, connection: socket.socket, head: bytes) -> None:
        self.server = server
        self.connection = connection
        self.head = head

    def send(self, data: bytes) -> None:
        """Send `data` whole, counting it in `server.sent`."""
        self.connection.sendall(data)
        self.server.sent += len(data)

    def stream(self, head: bytes, *, chunked: bool = False, piece: bytes = _PIECE) -> None:
        """Send `head`, then `piece` after `piece` (as chunks when `chunked`) until the client
        stops reading, `STREAM_LIMIT` is reached or the server stops."""
        self.send(head)
        if chunked:
            piece = b"%x\r\n%s\r\n" % (len(piece), piece)
        while self.server.sent < STREAM_LIMIT and not self.server.stopping.is_set():
            self.send(piece)

    def hold(self) -> None:
        """Keep the connection open, sending nothing, until the server stops (at most HOLD_S)."""
        self.server.stopping.wait(HOLD_S)

    def linger(self) -> None:
        """Close the sending side, then read (and drop) what the client still sends, so that
        closing never resets the connection under an answer the client has yet to read."""
        self.connection.shutdown(socket.SHUT_WR)
        while self.connection.recv(65_536):
            pass


Answer = Callable[[Exchange], bool]
"""Answers one request; returns True to read the next request on the same connection."""


def raw(data: bytes, *, keep: bool = True) -> Answer:
    """Return an answer sending `data` as is, then reading the next request (or closing,
    lingering, unless `keep`)."""

    def answer(exchange: Exchange) -> bool:
        exchange.send(data)
        if not keep:
            exchange.linger()
        return keep

    return answer


class HostileServer(LoopbackServer):
    """Answers the n-th request it reads (counting from 0, over all connections) with
    `answers[n]`, the last one once they run out. `accepted` counts connections, `requests`
    requests read, `sent` the bytes sent."""

    def __init__(
        self, answers: Sequence[Answer], *, early: bool = False, tls: ssl.SSLContext | None = None
    ) -> None:
        self.answers = list(answers)
        self.early = early
        self.tls = tls
        self.requests = 0
        self.sent = 0
        super().__init__()

    @property
    def url(self) -> str:
        return (
            super().url.replace("http://127.0.0.1", "https://localhost")
            if self.tls
            else super().url
        )

    def serve(self, connection: socket.socket) -> None:
        # OSError: the client closed the connection (or its TLS handshake failed).
        with contextlib.ExitStack() as stack, contextlib.suppress(OSError):
            stack.enter_context(connection)
            connection.settimeout(HOLD_S)
            if self.tls is not None:
                tls = self.tls.wrap_socket(connection, server_side=True)
                connection = stack.enter_context(tls)
            self._exchanges(connection)

    def _exchanges(self, connection: socket.socket) -> None:
        buffered = b""
        while not self.stopping.is_set():
            while b"\r\n\r\n" not in buffered:
                data = connection.recv(65_536)
                if not data or len(buffered) > 1 << 20:
                    return
                buffered += data
            head, _, buffered = buffered.partition(b"\r\n\r\n")
            if not self.early:
                buffered = self._skip_body(connection, head, buffered)
            answer = self.answers[min(self.requests, len(self.answers) - 1)]
            self.requests += 1
            if not answer(Exchange(self, connection, head)):
                return

    @staticmethod
    def _skip_body(connection: socket.socket, head: bytes, buffered: bytes) -> bytes:
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(buffered) < length:
            data = connection.recv(65_536)
            if not data:
                break
            buffered += data
        return buffered[length:]
