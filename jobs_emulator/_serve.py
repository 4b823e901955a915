"""`serve()`: the emulator on a loopback port, run by an asyncio loop in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal

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


class _Runner:
    """An asyncio loop in a thread: `start()` waits until it listens, `stop()` until it is gone."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="jobs-emulator", daemon=True)
        self._server: Server | None = None
        self._listeners: list[asyncio.Server] = []

    def start(self, server: Server) -> int:
        """Start serving `server` in the thread; return the bound port.

        Raises what binding raised.
        """
        self._server = server
        self._thread.start()
        try:
            return self.listen(self._port)
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            raise

    def listen(self, port: int = 0) -> int:
        """Serve on `port` (0: a free one) as well; return it.

        Raises `OSError` when binding fails.
        """
        return asyncio.run_coroutine_threadsafe(self._listen(port), self._loop).result()

    def stop(self) -> None:
        """Close the listeners and every open connection, and wait for the thread to end."""
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _listen(self, port: int) -> int:
        assert self._server is not None, "listen() before start()"
        server = self._server
        bound: list[int] = []
        listener = await self._loop.create_server(
            lambda: server.protocol(bound[0]), self._host, port, start_serving=False
        )
        bound.append(listener.sockets[0].getsockname()[1])
        self._listeners.append(listener)
        await listener.start_serving()
        return bound[0]

    async def _close(self) -> None:
        assert self._server is not None
        for listener in self._listeners:
            listener.close()
        for connection in list(self._server.connections):
            connection.abort()
        for listener in self._listeners:
            await listener.wait_closed()
        # Let the aborted transports report their loss before the loop stops.
        await asyncio.sleep(0)
