"""Many clients at once: 200 concurrent keep-alive connections, each an h11 client on trio."""

from __future__ import annotations

import json

import h11
import trio

from jobs_emulator import Emulator

CONNECTIONS = 200
REQUESTS_PER_CONNECTION = 5


async def _exchange(
    stream: trio.SocketStream, connection: h11.Connection, method: str, path: str, body: bytes
) -> tuple[int, bytes]:
    headers = [("Host", "emulator"), ("Content-Length", str(len(body)))]
    data = connection.send(h11.Request(method=method, target=path, headers=headers))
    data += connection.send(h11.Data(data=body)) if body else b""
    data += connection.send(h11.EndOfMessage())
    await stream.send_all(data)
    status, received = 0, b""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            received += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            connection.start_next_cycle()
            return status, received
        else:
            raise AssertionError(f"unexpected {event!r}")


async def _run_clients(emu: Emulator) -> list[int]:
    statuses: list[int] = []
    all_connected = trio.Event()
    connected = 0

    async def client(index: int) -> None:
        nonlocal connected
        stream = await trio.open_tcp_stream(emu.host, emu.port)
        async with stream:
            connection = h11.Connection(h11.CLIENT)
            body = json.dumps(
                {"job_type": "ML", "worker_name": f"w{index}", "payload": json.dumps({"n": index})}
            ).encode()
            status, reply = await _exchange(stream, connection, "POST", "/v1alpha1/jobs", body)
            statuses.append(status)
            job_id = json.loads(reply)["id"]
            connected += 1
            if connected == CONNECTIONS:
                all_connected.set()
            # Every connection stays open until all 200 exist, so they are served concurrently.
            await all_connected.wait()
            for _ in range(REQUESTS_PER_CONNECTION - 1):
                status, reply = await _exchange(
                    stream, connection, "GET", f"/v1alpha1/jobs/ML/{job_id}", b""
                )
                assert json.loads(reply)["job"]["worker_name"] == f"w{index}"
                statuses.append(status)

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for index in range(CONNECTIONS):
                nursery.start_soon(client, index)
    return statuses


def test_200_concurrent_connections(fresh_manual_emu: Emulator) -> None:
    statuses = trio.run(_run_clients, fresh_manual_emu)
    assert statuses == [200] * (CONNECTIONS * REQUESTS_PER_CONNECTION)
    assert len(fresh_manual_emu.engine.list_jobs()) == CONNECTIONS
