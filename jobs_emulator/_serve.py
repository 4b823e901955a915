"""`serve()`: the emulator on a loopback port, run by trio in a background thread."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import trio

from jobs_emulator import _admin, _oauth, _snowflake_api
from jobs_emulator._auth import DEFAULT_TOKEN_TTL_S, DEFAULT_USER, Authenticator
from jobs_emulator._clock import Clock, ManualClock
from jobs_emulator._direct_access import PREFIX, DirectAccessApi
from jobs_emulator._endpoint import DirectAccessEndpoint
from jobs_emulator._engine import DEFAULT_PAGE_SIZE, Engine
from jobs_emulator._faults import Faults
from jobs_emulator._server import Server

DEFAULT_APP = "JOBS_APP"
_NO_PLATFORM_DETECTION = "SNOWFLAKE_DISABLE_PLATFORM_DETECTION"
_log = logging.getLogger("jobs_emulator")


class Emulator:
    """A running emulator, as `serve()` yields it."""

    def __init__(
        self,
        *,
        app: str,
        engine: Engine,
        faults: Faults,
        authenticator: Authenticator,
        endpoint: DirectAccessEndpoint,
        host: str,
        port: int,
        runner: _Runner,
    ) -> None:
        self.app = app
        """The application name the SQL statements use (`call {app}.api.GET_JOB(?, ?)`)."""
        self.engine = engine
        self.faults = faults
        self.authenticator = authenticator
        self.host = host
        """The address the emulator listens on."""
        self.port = port
        """The port of the SQL API and `/oauth/token` (and of Direct Access until it moves)."""
        self.snowflake: dict[str, Any] = _snowflake_api.connect_kwargs(host, port)
        """Keyword arguments for `snowflake.connector.connect` (`paramstyle="qmark"` included)."""
        self._endpoint = endpoint
        self._runner = runner

    @property
    def base_url(self) -> str:
        """Return where the Direct Access API answers now, e.g. `http://127.0.0.1:50123`."""
        return self._endpoint.url

    @property
    def service_endpoint_calls(self) -> int:
        """Return how many `CALL <app>.app.service_endpoint(...)` statements were answered."""
        return self._endpoint.lookups

    @property
    def token_exchanges(self) -> int:
        """Return how many tokens `/oauth/token` has issued."""
        return self.authenticator.exchanges

    def move_direct_access(self) -> str:
        """Move the Direct Access API to a new port; return its new base URL.

        The old address then answers every Direct Access request with the stale-endpoint error
        (404, "could not find the service associated with endpoint"), `service_endpoint` answers
        the new URL, and tokens issued for the old endpoint are refused at the new one. The SQL
        API and `/oauth/token` stay where they are. Raises `OSError` when no port can be bound.
        """
        return self._endpoint.move(self._runner.listen())


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
    users: Mapping[str, Mapping[str, str]] | None = None,
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S,
) -> Iterator[Emulator]:
    """Run the emulator in a background thread; yield it and stop it cleanly on exit.

    `port=0` picks a free port. `clock` is `"real"` (the default), `"manual"` (a `ManualClock`
    that starts at 2026-01-01T00:00:00Z) or any clock object. `tokens` maps Direct Access tokens
    to users; with none (and no `users`), every HTTP caller is `default_user`. `users` registers
    users by name with a `"public_key"` (PEM text) and/or a `"pat"`: then SQL logins and Direct
    Access requests must prove a registered user, and `/oauth/token` issues tokens that live
    `token_ttl_s` seconds of wall time. Sets `SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true` in the
    environment unless set, or the connector probes cloud metadata endpoints on every login.
    Raise `ValueError` for bad `users`, `token_ttl_s`, `clock` or `page_size`, and `OSError`
    when the port cannot be bound.
    """
    engine = Engine(_clock(clock), page_size=page_size)
    authenticator = Authenticator(tokens, default_user, users=users, token_ttl_s=token_ttl_s)
    os.environ.setdefault(_NO_PLATFORM_DETECTION, "true")
    faults = Faults()
    runner = _Runner(host, port)
    endpoint = DirectAccessEndpoint(host)
    server = Server(
        routes=[
            (PREFIX, DirectAccessApi(engine, authenticator, endpoint).handle),
            (_admin.PREFIX, functools.partial(_admin.handle, engine)),
            (_oauth.PATH, _oauth.OAuthApi(authenticator, endpoint).handle),
        ],
        fallback=_snowflake_api.SnowflakeApi(engine, authenticator, endpoint, app).handle,
        faults=faults,
    )
    bound_port = runner.start(server)
    endpoint.move(bound_port)
    try:
        yield Emulator(
            app=app,
            engine=engine,
            faults=faults,
            authenticator=authenticator,
            endpoint=endpoint,
            host=host,
            port=bound_port,
            runner=runner,
        )
    finally:
        runner.stop()


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
    """`trio.run` in a thread: `start()` waits until it listens, `stop()` until it is gone."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._ready: queue.Queue[_Started | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="jobs-emulator", daemon=True)
        self._server: Server | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._listening = False

    def start(self, server: Server) -> int:
        """Start serving `server` in the thread; return the bound port.

        Raise what binding raised.
        """
        self._server = server
        self._thread.start()
        started = self._ready.get()
        if isinstance(started, BaseException):
            self._thread.join()
            raise started
        self._token, self._scope, port = started
        return port

    def listen(self) -> int:
        """Serve on one more (free) port as well; return it. Raise `OSError` when binding fails."""
        assert self._token is not None, "listen() before start()"
        return trio.from_thread.run(self._listen, 0, trio_token=self._token)

    def stop(self) -> None:
        """Cancel the server (open connections included) and wait for its thread to end."""
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
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                port = self._serve(listeners)
                self._listening = True
                self._ready.put((trio.lowlevel.current_trio_token(), scope, port))

    async def _listen(self, port: int) -> int:
        return self._serve(await trio.open_tcp_listeners(port, host=self._host))

    def _serve(self, listeners: list[trio.SocketListener]) -> int:
        """Serve connections on `listeners` in the nursery; return their port."""
        assert self._nursery is not None
        assert self._server is not None
        bound: int = listeners[0].socket.getsockname()[1]
        handler = functools.partial(self._server.serve_connection, port=bound)
        self._nursery.start_soon(trio.serve_listeners, handler, listeners)
        return bound
