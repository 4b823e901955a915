"""One benchmark client per process: reads commands on stdin, answers with timings on stdout.

Run as ``python -m bench.clients NAME BASE_URL``, by `bench.anchor_bench`, once per client, so
that no two clients share an interpreter. NAME is one of `CLIENTS`. The relationalai clients run
under the anchor's own Python (a throwaway virtual environment holding relationalai 1.37.0), so
this module imports nothing outside the standard library until a client is built.

Each command is one JSON line ``{"op": ..., "calls": N, ...}``; the answer is one JSON line
``{"wall": seconds, "cpu": seconds}`` for the timed part (process CPU: the client's alone, the
emulator runs elsewhere), or ``{"error": text}``. Ops: ``get`` (N gets of `job`, one after
another), ``list`` (N lists of one reasoner type), ``creates`` (N creates at once on one event
loop), ``parse`` (N parses of the list body in file `body` into job records).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import types
from collections.abc import Awaitable, Callable
from typing import Any, Final

KIND: Final = "Predictive"
ASYNC_CLIENTS = ("ours-asyncio", "ours-trio", "rai-asyncio", "httpcore-asyncio", "httpcore-trio")
CLIENTS = ("ours-sync", "rai-sync", "httpcore-sync", "h11-socket", *ASYNC_CLIENTS)


def timed(action: Callable[[], object]) -> dict[str, float]:
    """Returns the wall and process CPU seconds `action()` takes."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


async def timed_async(action: Callable[[], Awaitable[object]]) -> dict[str, float]:
    """Returns the wall and process CPU seconds awaiting `action()` takes."""
    wall, cpu = time.perf_counter(), time.process_time()
    await action()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def _rai_config() -> Any:
    # The two settings the relationalai gateways read from their configuration.
    return types.SimpleNamespace(jobs=types.SimpleNamespace(enable_guard_rails=False))


SyncCall = tuple[Callable[[], object], Callable[[], object]]
"""One call of an op, and what closes its client."""


def sync_call(name: str, base_url: str, command: dict[str, Any]) -> SyncCall:
    """Returns one call of `command`'s op (get or list) on a new sync client `name`."""
    op, job = command["op"], command.get("job", "")
    if name == "ours-sync":
        from jobs_transports import connect_sync

        client = connect_sync(base_url=base_url)
        if op == "list":
            return lambda: client.list(KIND, limit=command["size"]), client.close
        return lambda: client.get(KIND, job), client.close
    if name == "rai-sync":
        import requests
        from relationalai.client.transports.http import HttpClient
        from relationalai.services.jobs.client_sync import JobsClientSync
        from relationalai.services.jobs.gateways import HttpGateway

        session = requests.Session()
        session.headers.update({"Accept": "application/json"})
        gateway = HttpGateway(
            config=_rai_config(),
            base_url_provider=lambda *_: base_url,
            http=HttpClient(session=session),
        )
        rai = JobsClientSync(gateway)
        if op == "list":
            return lambda: rai.list(KIND, limit=command["size"]), session.close
        return lambda: rai.get(KIND, job), session.close
    url = f"{base_url}/v1alpha1/jobs/ML/{job}" if op == "get" else f"{base_url}/v1alpha1/jobs"
    headers = [("Accept", "application/json"), ("User-Agent", "bench")]
    if name == "httpcore-sync":
        import httpcore

        pool = httpcore.ConnectionPool(max_connections=1)
        return lambda: json.loads(pool.request("GET", url, headers=headers).content), pool.close
    if name == "h11-socket":
        return _h11_call(base_url, url[len(base_url) :])
    raise ValueError(f"unknown sync client {name!r}")


def _h11_call(base_url: str, path: str) -> SyncCall:
    """Returns a get over h11 on one blocking keep-alive socket: the floor of any sync client."""
    import socket
    from urllib.parse import urlsplit

    import h11

    where = urlsplit(base_url)
    sock = socket.create_connection((where.hostname, where.port or 80))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connection = h11.Connection(h11.CLIENT)
    request = h11.Request(method="GET", target=path, headers=[("Host", where.netloc)])

    def call() -> object:
        data = connection.send(request) + connection.send(h11.EndOfMessage())
        sock.sendall(data)
        body = b""
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                connection.start_next_cycle()
                return json.loads(body)

    return call, sock.close


async def async_block(name: str, base_url: str, command: dict[str, Any]) -> dict[str, float]:
    """Runs `command` on a new async client `name` under the running loop; returns its timing."""
    op, calls = command["op"], command["calls"]
    async with _AsyncClient(name, base_url) as call:
        if op == "creates":
            await call("create", command)  # connects before timing, as the get does
            return await timed_async(lambda: _at_once(name, call, command, calls))
        await call(op, command)  # warm-up: the connection is open before timing

        async def sequence() -> None:
            for _ in range(calls):
                await call(op, command)

        return await timed_async(sequence)


async def _at_once(
    name: str, call: Callable[[str, dict[str, Any]], Awaitable[object]], command: Any, n: int
) -> None:
    if name.endswith("trio"):
        import trio

        async with trio.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(call, "create", command)
        return
    await asyncio.gather(*(call("create", command) for _ in range(n)))


class _AsyncClient:
    """An async context manager yielding ``call(op, command)`` on a new client `name`."""

    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.base_url = base_url
        self._close: Callable[[], Awaitable[object]] | None = None

    async def __aenter__(self) -> Callable[[str, dict[str, Any]], Awaitable[object]]:
        name, base_url = self.name, self.base_url
        if name.startswith("ours-"):
            from jobs_transports import connect

            client = connect(base_url=base_url)
            self._close = client.aclose

            async def ours(op: str, command: dict[str, Any]) -> object:
                if op == "create":
                    return await client.create(KIND, "bench", {"n": 1})
                if op == "list":
                    return await client.list(KIND, limit=command["size"])
                return await client.get(KIND, command["job"])

            return ours
        if name == "rai-asyncio":
            import aiohttp
            from relationalai.client.transports.http import AsyncHttpClient
            from relationalai.services.jobs.client import JobsClient
            from relationalai.services.jobs.gateways import AsyncHttpGateway

            session = aiohttp.ClientSession(headers={"Accept": "application/json"})
            self._close = session.close
            gateway = AsyncHttpGateway(
                config=_rai_config(),
                base_url_provider=lambda *_: base_url,
                http=AsyncHttpClient(session=session),
            )
            rai = JobsClient(_gateway=gateway)

            async def theirs(op: str, command: dict[str, Any]) -> object:
                if op == "create":
                    return await rai.create(KIND, "bench", {"n": 1})
                if op == "list":
                    return await rai.list(KIND, limit=command["size"])
                return await rai.get(KIND, command["job"])

            return theirs
        import httpcore

        pool = httpcore.AsyncConnectionPool(max_connections=1)
        self._close = pool.aclose
        headers = [("Accept", "application/json"), ("User-Agent", "bench")]

        async def bare(op: str, command: dict[str, Any]) -> object:
            url = f"{base_url}/v1alpha1/jobs/ML/{command['job']}"
            return json.loads((await pool.request("GET", url, headers=headers)).content)

        return bare

    async def __aexit__(self, *exc: object) -> None:
        if self._close is not None:
            await self._close()


def parse_block(name: str, command: dict[str, Any]) -> dict[str, float]:
    """Times `calls` parses of the list body in file `body` into job records."""
    with open(command["body"], "rb") as file:
        body = file.read()
    if name.startswith("rai"):
        from relationalai.services.jobs.models import job_from_row

        def parse() -> object:
            return [job_from_row(row) for row in json.loads(body)["jobs"]]
    else:
        from jobs_core import ClientConfig, HttpResponse, Stepper, list_jobs

        response = HttpResponse(200, (), body)
        config = ClientConfig(http=True)

        def parse() -> object:
            # The public `list` of one type, its request answered with the body: no I/O.
            step = Stepper(list_jobs(config, "Predictive"))
            step.start()
            step.send(response)
            return step.result

    parse()

    def repeat() -> None:
        for _ in range(command["calls"]):
            parse()

    return timed(repeat)


def run(name: str, base_url: str, command: dict[str, Any]) -> dict[str, float]:
    """Runs one command; returns its timing."""
    if command["op"] == "parse":
        return parse_block(name, command)
    if name in ASYNC_CLIENTS:
        if name.endswith("trio"):
            import trio

            return trio.run(async_block, name, base_url, command)
        return asyncio.run(async_block(name, base_url, command))
    call, close = sync_call(name, base_url, command)
    try:
        call()

        def repeat() -> None:
            for _ in range(command["calls"]):
                call()

        return timed(repeat)
    finally:
        close()


def main() -> None:
    """Answers commands until stdin closes."""
    name, base_url = sys.argv[1], sys.argv[2]
    print(json.dumps({"ready": name}), flush=True)
    for line in sys.stdin:
        answer: dict[str, object]
        try:
            answer = dict(run(name, base_url, json.loads(line)))
        except Exception as exc:  # reported to the parent, which prints it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
