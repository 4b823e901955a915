"""The emulator's request rate on one keep-alive connection, and its CPU per request.

Each server runs in its own child process; one lean client (a precomputed `GET` of one job,
responses framed by `Content-Length`, nothing else) reads from each in turn, in alternating
blocks, so every figure is a median of blocks measured under the same machine load. Figures:

- `emulator`: `python -m jobs_emulator` from this checkout;
- `bare`: an asyncio responder that answers every request with the emulator's own bytes for it,
  without parsing or handling anything: the floor the loopback, the client and asyncio set;
- `against` (with `--against DIR`): `python -m jobs_emulator` from `DIR`, another copy of the
  package (say an older commit, unpacked with `git archive COMMIT jobs_emulator | tar -x -C DIR`).

Server CPU per request is read from `/proc/PID/stat` (Linux only; blank elsewhere).
Run with ``python -m bench.emulator_rate [--requests N] [--blocks N] [--against DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent


@attrs.frozen
class Target:
    """A server in a child process, and the one request the client repeats to it."""

    name: str
    pid: int
    host: str
    port: int
    request: bytes


def read_response(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    """Return one whole response framed by its `Content-Length`, and the bytes after it."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            start = buffer.find(b"content-length:", 0, end)
            start = buffer.find(b"Content-Length:", 0, end) if start < 0 else start
            stop = buffer.find(b"\r\n", start)
            total = end + 4 + int(buffer[start + 15 : stop])
            if len(buffer) >= total:
                return buffer[:total], buffer[total:]
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk


def rate(target: Target, requests: int) -> float:
    """Return requests/second for `requests` sequential requests on one keep-alive connection."""
    with socket.create_connection((target.host, target.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        started = time.perf_counter()
        for _ in range(requests):
            sock.sendall(target.request)
            answer, buffer = read_response(sock, buffer)
            if not answer.startswith(b"HTTP/1.1 200 "):
                raise RuntimeError(f"{target.name} answered {answer[:60]!r}")
        return requests / (time.perf_counter() - started)


def cpu_seconds(pid: int) -> float | None:
    """Return the user + system CPU time of process `pid`, or `None` off Linux."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_shot(host: str, port: int, method: str, path: str, body: bytes = b"") -> bytes:
    """Return the body of one request's answer, sent on a connection of its own."""
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n\r\n"
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head.encode() + body)
        answer, _ = read_response(sock, b"")
    return answer.split(b"\r\n\r\n", 1)[1]


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


@contextlib.contextmanager
def child(command: list[str], pythonpath: str) -> Iterator[tuple[int, str, int]]:
    """Run a server that prints `http://HOST:PORT` first; yield its pid, host and port."""
    environment = {**os.environ, "PYTHONPATH": pythonpath}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env=environment, cwd=pythonpath
    )
    try:
        assert process.stdout is not None
        match = re.search(r"http://([\d.]+):(\d+)", process.stdout.readline())
        if match is None:
            raise RuntimeError(f"{command} did not say where it listens")
        yield process.pid, match.group(1), int(match.group(2))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


@contextlib.contextmanager
def emulator(name: str, package_dir: str) -> Iterator[Target]:
    """Run `python -m jobs_emulator` from `package_dir` with one job; yield it as a target."""
    command = [sys.executable, "-m", "jobs_emulator", "--clock", "manual"]
    with child(command, package_dir) as (pid, host, port):
        body = json.dumps({"job_type": "ML", "worker_name": "bench", "payload": "{}"}).encode()
        job_id = json.loads(one_shot(host, port, "POST", "/v1alpha1/jobs", body))["id"]
        yield Target(name, pid, host, port, get_request(f"/v1alpha1/jobs/ML/{job_id}"))


class _Responder(asyncio.Protocol):
    """Answer every request (anything up to a blank line) with one fixed response."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            self.buffer = self.buffer[end + 4 :]
            self.transport.write(self.answer)


async def serve_bare(answer: bytes) -> None:
    """Serve `answer` to every request on a free loopback port until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Responder(answer), "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"bare responder on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def bare(template: Target) -> Iterator[Target]:
    """Run the bare responder with `template`'s answer; yield it as a target."""
    with socket.create_connection((template.host, template.port)) as sock:
        sock.sendall(template.request)
        answer, _ = read_response(sock, b"")
    command = [sys.executable, "-m", "bench.emulator_rate", "--serve-bare", answer.hex()]
    with child(command, str(ROOT)) as (pid, host, port):
        yield Target("bare", pid, host, port, template.request)


def measure(targets: list[Target], requests: int, blocks: int) -> None:
    """Print each target's median rate and CPU per request, and rates against the first."""
    rates: dict[str, list[float]] = {target.name: [] for target in targets}
    cpus: dict[str, list[float]] = {target.name: [] for target in targets}
    for target in targets:
        rate(target, max(requests // 10, 1))  # warm-up
    for _ in range(blocks):
        for target in targets:
            before = cpu_seconds(target.pid)
            rates[target.name].append(rate(target, requests))
            after = cpu_seconds(target.pid)
            if before is not None and after is not None:
                cpus[target.name].append((after - before) / requests * 1e6)
    first = statistics.median(rates[targets[0].name])
    for target in targets:
        median = statistics.median(rates[target.name])
        cpu = f"{statistics.median(cpus[target.name]):6.1f} µs" if cpus[target.name] else ""
        print(
            f"  {target.name:9s}: {median:8.0f} req/s  ({median / first:4.2f}× {targets[0].name})"
            f"   server CPU per request {cpu}"
        )


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_rate", description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="requests per block")
    parser.add_argument("--blocks", type=int, default=5, help="alternating blocks per figure")
    parser.add_argument("--against", metavar="DIR", help="another jobs_emulator to compare with")
    parser.add_argument("--serve-bare", metavar="HEX", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            asyncio.run(serve_bare(bytes.fromhex(args.serve_bare)))
        return
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"emulator get, one keep-alive connection: {args.blocks} alternating blocks of"
        f" {args.requests} requests (load average {load} on {os.cpu_count()} CPUs)"
    )
    with contextlib.ExitStack() as stack:
        mine = stack.enter_context(emulator("emulator", str(ROOT)))
        targets = [mine, stack.enter_context(bare(mine))]
        if args.against is not None:
            against = str(Path(args.against).resolve())
            targets.insert(0, stack.enter_context(emulator("against", against)))
        measure(targets, args.requests, args.blocks)


if __name__ == "__main__":
    main()
