"""`serve()` as a test suite embeds it: its arguments checked before anything starts, from sync
code, a running asyncio loop or trio, on IPv6, after it stopped; each leaves no thread behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import snowflake.connector
import trio

from jobs_emulator import Emulator, serve
from tests.emulator.loopback_http import Http


@contextlib.contextmanager
def no_thread_left() -> Iterator[None]:
    """Fail unless every thread started inside the block has ended when it ends."""
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) - before == set()


def status_of(emu: Emulator, path: str = "/v1alpha1/jobs") -> int:
    client = Http(emu)
    try:
        return client.call("GET", path).status
    finally:
        client.close()


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"port": -1}, "port"),
        ({"port": 70000}, "port"),  # was an OverflowError from bind()
        ({"port": "8080"}, "port"),
        ({"port": True}, "port"),
        ({"host": ""}, "host"),  # every interface, advertised as "http://:PORT"
        ({"page_size": 1.5}, "page_size"),  # was accepted; every event page was a 500
        ({"page_size": "3"}, "page_size"),  # was a TypeError
        ({"app": ""}, "app"),
        ({"default_user": ""}, "default_user"),
        ({"tokens": {"": "alice"}}, "tokens"),
        ({"tokens": {"secret-1": ""}}, "tokens"),
        ({"tokens": "secret-1"}, "tokens"),  # was an AttributeError
        ({"tokens": [("secret-1", "alice")]}, "tokens"),
        ({"users": "alice"}, "users"),  # was an AttributeError
        ({"clock": object()}, "clock"),  # was accepted; every request was a 500
        ({"clock": 5}, "clock"),
    ],
)
def test_bad_arguments_are_a_value_error_before_anything_starts(
    arguments: dict[str, Any], fragment: str
) -> None:
    with (
        no_thread_left(),
        pytest.raises(ValueError, match=fragment) as raised,
        serve(**arguments),
    ):
        pass
    assert "secret-" not in str(raised.value)


def test_a_port_in_use_is_an_os_error_and_leaves_no_thread() -> None:
    with (
        serve() as emu,
        no_thread_left(),
        pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{emu.port}: .* in use"),
        serve(port=emu.port),
    ):
        pass


def test_a_host_name_leaves_no_resolver_thread_behind() -> None:
    # Resolving a name runs in the loop's executor, whose thread outlived the emulator about
    # half the time: a few rounds show it.
    for _ in range(5):
        with no_thread_left(), serve(host="localhost") as emu:
            assert emu.base_url == f"http://localhost:{emu.port}"
    with no_thread_left(), serve(host="localhost") as emu:
        assert status_of(emu) == 200


def test_an_ipv6_address_is_written_in_brackets() -> None:
    probe = socket.socket(socket.AF_INET6)
    try:
        probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    finally:
        probe.close()
    with serve(host="::1") as emu:
        assert emu.base_url == f"http://[::1]:{emu.port}"  # was "http://::1:PORT"
        assert status_of(emu) == 200
        connection = snowflake.connector.connect(**emu.snowflake)
        try:
            cursor = connection.cursor()
            cursor.execute(f"CALL {emu.app}.app.service_endpoint(TRUE)")
            assert cursor.fetchall() == [(emu.base_url,)]
        finally:
            connection.close()


def test_a_stopped_emulator_says_so() -> None:
    with no_thread_left():
        with serve() as emu:
            pass
        # Was "RuntimeError: Event loop is closed" and a "coroutine was never awaited" warning.
        with pytest.raises(RuntimeError, match="stopped"):
            emu.move_direct_access()


def test_moving_while_it_stops_returns_or_says_stopped_and_never_hangs() -> None:
    outcomes: list[object] = []

    def keep_moving(emu: Emulator) -> None:
        for _ in range(100_000):  # until the stop refuses one: a few, since it stops at once
            try:
                outcomes.append(emu.move_direct_access())
            except RuntimeError as exc:
                outcomes.append(exc)
                return

    for _ in range(20):
        with no_thread_left():
            with serve() as emu:
                mover = threading.Thread(target=keep_moving, args=(emu,))
                mover.start()
            mover.join(timeout=10)
            assert not mover.is_alive(), "move_direct_access() hung across the stop"
        assert isinstance(outcomes[-1], RuntimeError)
        assert "stopped" in str(outcomes[-1])
        assert all(isinstance(o, str) for o in outcomes[:-1])
        outcomes.clear()


def test_it_runs_again_after_a_stop_on_a_fresh_port() -> None:
    with no_thread_left():
        with serve() as first:
            assert status_of(first) == 200
        with serve() as second:
            assert status_of(second) == 200


def test_it_serves_from_inside_a_running_asyncio_loop() -> None:
    async def main() -> bytes:
        with serve() as emu:
            reader, writer = await asyncio.open_connection(emu.host, emu.port)
            writer.write(b"GET /_emulator/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = await reader.read()
            writer.close()
            await writer.wait_closed()
            return answer

    with no_thread_left():
        assert asyncio.run(main()).startswith(b"HTTP/1.1 200 ")


def test_it_serves_from_inside_trio() -> None:
    async def main() -> bytes:
        with serve() as emu:
            stream = await trio.open_tcp_stream(emu.host, emu.port)
            async with stream:
                request = b"GET /_emulator/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                await stream.send_all(request)
                answer = b""
                while chunk := await stream.receive_some():
                    answer += chunk
            return answer

    with no_thread_left():
        assert trio.run(main).startswith(b"HTTP/1.1 200 ")


def test_stopping_while_clients_connect_leaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    # A connection accepted as the emulator stopped was left open: its transport was created
    # after the open connections were closed ("unclosed transport" at garbage collection, which
    # fails a test run with warnings as errors), or asyncio failed to create it ("Error on
    # transport creation for incoming connection") and left the socket open.
    for _ in range(5):
        stop = threading.Event()
        with serve() as emu:

            def connect_until_stopped(
                address: tuple[str, int] = (emu.host, emu.port), stop: threading.Event = stop
            ) -> None:
                while not stop.is_set():
                    with contextlib.suppress(OSError), socket.create_connection(address, 1):
                        pass

            clients = [threading.Thread(target=connect_until_stopped) for _ in range(2)]
            for client in clients:
                client.start()
        stop.set()
        for client in clients:
            client.join()
        gc.collect()  # an unclosed transport or socket warns here, inside this test
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_connector_arguments_log_in_as_the_default_user() -> None:
    # emu.snowflake logged in as "emulator_user" whatever `default_user` said: one client was two
    # users, and a transaction it created over HTTP was "another user's" over SQL.
    with serve(clock="manual", default_user="bob") as emu:
        assert emu.snowflake["user"] == "bob"
        client = Http(emu)
        connection = snowflake.connector.connect(**emu.snowflake)
        try:
            transaction = client.create_transaction()
            cursor = connection.cursor()
            cursor.execute(
                f"select {emu.app}.api.get_own_transaction_events(?, ?)", [transaction, ""]
            )
            assert cursor.fetchall()
        finally:
            connection.close()
            client.close()
