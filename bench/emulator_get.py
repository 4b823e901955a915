"""The emulator's own throughput for a Direct Access `get` (`GET /v1alpha1/jobs/ML/{id}`).

Figures, all measured in one run against one emulator:
- one keep-alive connection, requests one after another;
- one new connection per request (what keep-alive saves);
- N concurrent clients, each on its own keep-alive connection (N = 1, 10, 50, 200).

The emulator runs in a child process (`python -m jobs_emulator`), so the load generator does not
share its interpreter; `--in-process` runs it in a thread of this process instead. The load
generator is plain h11 over sockets (sync) or trio streams (concurrent), so the client's own cost
is small but not zero: the figures are a floor for what the emulator can serve.
Run with ``python -m bench.emulator_get [--requests N] [--in-process]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import h11
import trio

from jobs_emulator import serve

CONCURRENCY = (1, 10, 50, 200)


def request_bytes(connection: h11.Connection, method: str, path: str, body: bytes = b"") -> bytes:
    """Returns the bytes of one request on `connection` (h11 state advanced)."""
    headers = [("Host", "emulator"), ("Content-Length", str(len(body)))]
    data = connection.send(h11.Request(method=method, target=path, headers=headers))
    data += connection.send(h11.Data(data=body)) if body else b""
    return data + connection.send(h11.EndOfMessage())


def response_status(connection: h11.Connection) -> int | None:
    """Returns the status once a whole response is parsed, `None` when more bytes are needed."""
    status = 0
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            return None
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.EndOfMessage):
            connection.start_next_cycle()
            return status
        elif not isinstance(event, h11.Data):
            raise RuntimeError(f"unexpected {event!r}")


def call(
    sock: socket.socket, connection: h11.Connection, method: str, path: str, body: bytes = b""
) -> int:
    """Sends one request on a blocking socket; returns the response status."""
    sock.sendall(request_bytes(connection, method, path, body))
    while (status := response_status(connection)) is None:
        connection.receive_data(sock.recv(65536))
    return status


def create_job(host: str, port: int) -> str:
    """Creates the job the benchmark reads; returns its id."""
    body = json.dumps({"job_type": "ML", "worker_name": "bench", "payload": "{}"}).encode()
    with socket.create_connection((host, port)) as sock:
        connection = h11.Connection(h11.CLIENT)
        sock.sendall(request_bytes(connection, "POST", "/v1alpha1/jobs", body))
        chunks = b""
        while chunk := sock.recv(65536):
            chunks += chunk
            if chunks.count(b"\r\n\r\n") and chunks.rstrip().endswith(b"}"):
                break
    return str(json.loads(chunks.split(b"\r\n\r\n", 1)[1])["id"])


def keep_alive(host: str, port: int, path: str, requests: int) -> float:
    """Returns requests/second for `requests` gets on one keep-alive connection."""
    with socket.create_connection((host, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = h11.Connection(h11.CLIENT)
        started = time.perf_counter()
        for _ in range(requests):
            assert call(sock, connection, "GET", path) == 200
        return requests / (time.perf_counter() - started)


def new_connections(host: str, port: int, path: str, requests: int) -> float:
    """Returns requests/second for `requests` gets, each on a new connection."""
    started = time.perf_counter()
    for _ in range(requests):
        with socket.create_connection((host, port)) as sock:
            assert call(sock, h11.Connection(h11.CLIENT), "GET", path) == 200
    return requests / (time.perf_counter() - started)


async def concurrent(host: str, port: int, path: str, clients: int, requests: int) -> float:
    """Returns requests/second for `requests` gets spread over `clients` concurrent connections."""
    streams = [await trio.open_tcp_stream(host, port) for _ in range(clients)]
    share = requests // clients

    async def client(stream: trio.SocketStream) -> None:
        connection = h11.Connection(h11.CLIENT)
        for _ in range(share):
            await stream.send_all(request_bytes(connection, "GET", path))
            while (status := response_status(connection)) is None:
                connection.receive_data(await stream.receive_some(65536))
            assert status == 200

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for stream in streams:
            nursery.start_soon(client, stream)
    elapsed = time.perf_counter() - started
    for stream in streams:
        await stream.aclose()
    return share * clients / elapsed


@contextlib.contextmanager
def emulator(in_process: bool) -> Iterator[tuple[str, int]]:
    """Runs an emulator; yields its host and port."""
    if in_process:
        with serve(clock="manual") as emu:
            yield emu.host, emu.port
        return
    command = [sys.executable, "-m", "jobs_emulator", "--clock", "manual"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"http://([\d.]+):(\d+)", process.stdout.readline())
        if match is None:
            raise RuntimeError("the emulator did not say where it listens")
        yield match.group(1), int(match.group(2))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def main(argv: list[str] | None = None) -> None:
    """Prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_get", description=__doc__)
    parser.add_argument("--requests", type=int, default=4000, help="gets per figure")
    parser.add_argument("--in-process", action="store_true", help="emulator in this process")
    args = parser.parse_args(argv)
    requests = args.requests
    with emulator(args.in_process) as (host, port):
        path = f"/v1alpha1/jobs/ML/{create_job(host, port)}"
        keep_alive(host, port, path, 200)  # warm-up
        where = "in this process" if args.in_process else "in a child process"
        print(f"emulator get throughput ({where}, {requests} requests per figure)")
        single = keep_alive(host, port, path, requests)
        print(f"  1 keep-alive connection, sequential : {single:8.0f} req/s")
        fresh = new_connections(host, port, path, max(requests // 4, 1))
        print(
            f"  new connection per request          : {fresh:8.0f} req/s"
            f"  (keep-alive x{single / fresh:.1f})"
        )
        for clients in CONCURRENCY:
            rate = trio.run(concurrent, host, port, path, clients, max(requests, clients))
            print(f"  {clients:3d} concurrent keep-alive clients    : {rate:8.0f} req/s")


if __name__ == "__main__":
    main()
