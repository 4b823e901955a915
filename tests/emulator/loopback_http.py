"""A plain httpcore client for the emulator's HTTP APIs, as the tests use it (no client package)."""

from __future__ import annotations

import json
import socket
from typing import Any

import attrs
import h11
import httpcore

from jobs_emulator import Emulator


@attrs.frozen
class Reply:
    """One HTTP answer: status, headers (names lower-cased) and the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Http:
    """A keep-alive httpcore pool against one emulator, with an optional Direct Access token."""

    def __init__(self, emu: Emulator, token: str | None = None) -> None:
        self.base_url = emu.base_url
        self.token = token
        self.pool = httpcore.ConnectionPool()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request (`body` JSON-encoded unless bytes); return the answer."""
        sent: dict[bytes | str, bytes | str] = {"Accept": "application/json"}
        sent.update(headers or {})
        chosen = token if token is not None else self.token
        if chosen is not None:
            sent["Authorization"] = f'Snowflake Token="{chosen}"'
        content = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if content is not None:
            sent["Content-Type"] = "application/json"
        response = self.pool.request(
            method, self.base_url + path, headers=list(sent.items()), content=content
        )
        names = {k.decode().lower(): v.decode() for k, v in response.headers}
        return Reply(response.status, names, response.content)

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """Send one request, check it answered 200 and return its JSON body."""
        reply = self.call(method, path, body, **kwargs)
        assert reply.status == 200, (reply.status, reply.body)
        return reply.json()

    def close(self) -> None:
        self.pool.close()

    @staticmethod
    def job_body(
        job_type: str = "ML", worker: str = "w1", emulate: dict[str, Any] | None = None, **more: Any
    ) -> dict[str, Any]:
        """Return a create-job body whose payload carries `emulate` when given."""
        payload: dict[str, Any] = {"model": "m"}
        if emulate is not None:
            payload["emulate"] = emulate
        return {"job_type": job_type, "worker_name": worker, "payload": json.dumps(payload), **more}

    @staticmethod
    def transaction_body(engine: str = "e1", **more: Any) -> dict[str, Any]:
        """Return a create-transaction body (database, query, `engine_name`) plus `more`."""
        return {"database": "db", "query": "def output = 1", "engine_name": engine, **more}

    def create_job(self, *args: Any, token: str | None = None, **kwargs: Any) -> str:
        """Create a job from `job_body(*args, **kwargs)`; return its id."""
        reply = self.ok("POST", "/v1alpha1/jobs", self.job_body(*args, **kwargs), token=token)
        return str(reply["id"])

    def create_transaction(self, *args: Any, token: str | None = None, **kwargs: Any) -> str:
        """Create a transaction from `transaction_body(*args, **kwargs)`; return its id."""
        body = self.transaction_body(*args, **kwargs)
        reply = self.ok("POST", "/v1alpha1/transactions", body, token=token)
        return str(reply["transaction"]["id"])


def read_raw_response(sock: socket.socket, buffer: bytes = b"") -> tuple[bytes, bytes]:
    """Return one whole response read from `sock` after `buffer` (head and `Content-Length`
    body), and the bytes after it. Raise `AssertionError` if the server closes first."""
    for _ in range(100_000):
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            lines = buffer[:end].decode("latin-1").split("\r\n")[1:]
            fields = dict(line.split(": ", 1) for line in lines)
            length = int(next(v for k, v in fields.items() if k.lower() == "content-length"))
            total = end + 4 + length
            if len(buffer) >= total:
                return buffer[:total], buffer[total:]
        chunk = sock.recv(65536)
        assert chunk, f"the server closed mid-response: {buffer[:200]!r}"
        buffer += chunk
    raise AssertionError("the response never ended")


def read_to_end(sock: socket.socket) -> bytes:
    """Return everything `sock` receives until the server closes (within 1,024 reads)."""
    received = b""
    for _ in range(1024):
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError("the server never closed")


def reply_of(answer: bytes) -> Reply:
    """Return the `Reply` of one raw response (its head and body)."""
    head, body = answer.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = (line.split(": ", 1) for line in lines)
    return Reply(int(status_line.split(" ")[1]), {k.lower(): v for k, v in fields}, body)


class RawConnection:
    """One keep-alive socket driven by an h11 client, for what a pool would hide from a test."""

    def __init__(self, emu: Emulator) -> None:
        self.socket = socket.create_connection((emu.host, emu.port), timeout=10)
        self.h11 = h11.Connection(h11.CLIENT)
        self.host = f"{emu.host}:{emu.port}"

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        chunks: list[bytes] | None = None,
    ) -> None:
        """Send one request: `body` with a Content-Length, or `chunks` chunked."""
        headers = [("Host", self.host)]
        if chunks is None:
            headers.append(("Content-Length", str(len(body))))
        else:
            headers.append(("Transfer-Encoding", "chunked"))
        data = self.h11.send(h11.Request(method=method, target=path, headers=headers))
        for part in [body] if chunks is None else chunks:
            data += self.h11.send(h11.Data(data=part)) if part else b""
        data += self.h11.send(h11.EndOfMessage())
        self.socket.sendall(data)

    def receive(self) -> Reply:
        """Read one whole response; raise `h11.RemoteProtocolError` if the server hangs up first."""
        head: h11.Response | None = None
        body = b""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(self.socket.recv(65536))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                names = {k.decode(): v.decode() for k, v in head.headers}
                if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
                    self.h11.start_next_cycle()
                return Reply(head.status_code, names, body)
            else:
                raise AssertionError(f"unexpected {event!r}")

    def request(self, method: str, path: str, body: bytes = b"") -> Reply:
        """Send one request and reads its response."""
        self.send(method, path, body)
        return self.receive()

    def closed_by_server(self) -> bool:
        """Return whether the server has closed the connection: the next read is end-of-file, or
        a reset (a connection aborted before the server read all that came on it, as a stopping
        server aborts a request it has not read yet, is reset rather than ended)."""
        try:
            return self.socket.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.socket.close()
