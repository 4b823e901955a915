"""`serve()`: the emulator on a loopback port, run by trio in a background thread."""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs
import trio

from jobs_emulator import admin, snowflake_api
from jobs_emulator._messages import Request, Response
from jobs_emulator.auth import DEFAULT_USER, Authenticator
from jobs_emulator.clock import Clock, ManualClock
from jobs_emulator.direct_access import PREFIX, DirectAccessApi
from jobs_emulator.engine import DEFAULT_PAGE_SIZE, Engine
from jobs_emulator.faults import Faults
from jobs_emulator.server import Server

DEFAULT_APP = "JOBS_APP"
_log = logging.getLogger("jobs_emulator")


@attrs.frozen
class Emulator:
    """A running emulator, as `serve()` yields it."""

    base_url: str
    """Where the Direct Access API answers, e.g. `http://127.0.0.1:50123`."""
    snowflake: dict[str, Any]
    """Keyword arguments for `snowflake.connector.connect` (`paramstyle="qmark"` included)."""
    app: str
    """The application name the SQL statements use (`call {app}.api.GET_JOB(?, ?)`)."""
    engine: Engine
    faults: Faults
    authenticator: Authenticator
    host: str
    port: int


@contextlib.contextmanager
def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | Literal["real", "manual"] | None = None,
    tokens: Mapping[str, str] | None = None,
    default_user: str = DEFAULT_USER,
    app: str = DEFAULT_APP,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[Emulator]:
    """Runs the emulator in a background thread; yields it and stops it cleanly on exit.

    `port=0` picks a free port. `clock` is `"real"` (the default), `"manual"` (a `ManualClock`
    that starts at 2026-01-01T00:00:00Z) or any clock object. `tokens` maps Direct Access tokens
    to users; with none, every HTTP caller is `default_user`.
    Raises `OSError` when the port cannot be bound.
    """
    engine = Engine(_clock(clock), page_size=page_size)
    faults = Faults()
    authenticator = Authenticator(tokens, default_user)
    direct_access = DirectAccessApi(engine, authenticator)
    server = Server(
        routes=[
            (PREFIX, direct_access.handle),
            (admin.PREFIX, functools.partial(admin.handle, engine)),
        ],
        fallback=functools.partial(_snowflake, engine, app),
        faults=faults,
    )
    runner = _Runner(server, host, port)
    bound_port = runner.start()
    try:
        yield Emulator(
            base_url=f"http://{host}:{bound_port}",
            snowflake={"paramstyle": "qmark", **snowflake_api.connect_kwargs(host, bound_port)},
            app=app,
            engine=engine,
            faults=faults,
            authenticator=authenticator,
            host=host,
            port=bound_port,
        )
    finally:
        runner.stop()


def _snowflake(engine: Engine, app: str, request: Request) -> Response:
    # Looked up on each request, so a test can stand in for the SQL API.
    return snowflake_api.handle(engine, request, app=app)


def _clock(clock: Clock | Literal["real", "manual"] | None) -> Clock | None:
    if clock == "manual":
        return ManualClock()
    if clock is None or clock == "real":
        return None
    if isinstance(clock, str):
        raise ValueError(f"clock must be 'real', 'manual' or a clock object, got {clock!r}")
    return clock


_Started = tuple[trio.lowlevel.TrioToken, trio.CancelScope, int]
"""What the server thread reports once it listens: how to reach it, how to stop it, its port."""


class _Runner:
    """Runs `trio.run` in a thread; `start()` waits until it listens, `stop()` until it is gone."""

    def __init__(self, server: Server, host: str, port: int) -> None:
        self._server = server
        self._host = host
        self._port = port
        self._ready: queue.Queue[_Started | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="jobs-emulator", daemon=True)
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._listening = False

    def start(self) -> int:
        """Starts the server thread; returns the bound port. Raises what binding raised."""
        self._thread.start()
        started = self._ready.get()
        if isinstance(started, BaseException):
            self._thread.join()
            raise started
        self._token, self._scope, port = started
        return port

    def stop(self) -> None:
        """Cancels the server (open connections included) and waits for its thread to end."""
        if self._token is not None and self._scope is not None:
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)
        self._thread.join()

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # the thread's end: reported to start(), or logged after it
            if self._listening:
                _log.exception("the emulator's server stopped")
            else:
                self._ready.put(exc)

    async def _main(self) -> None:
        listeners = await trio.open_tcp_listeners(self._port, host=self._host)
        port = listeners[0].socket.getsockname()[1]
        with trio.CancelScope() as scope:
            self._listening = True
            self._ready.put((trio.lowlevel.current_trio_token(), scope, port))
            await trio.serve_listeners(self._server.serve_connection, listeners)
