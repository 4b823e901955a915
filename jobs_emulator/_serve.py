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
from jobs_emulator._endpoint import DirectAccessEndpoint, authority
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
        self.snowflake: dict[str, Any] = _snowflake_api.connect_kwargs(
            host, port, authenticator.default_user
        )
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
        API and `/oauth/token` stay where they are. Raises `OSError` when no port can be bound,
        `RuntimeError` once the emulator has stopped.
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
    Raise `ValueError` for a bad `host`, `port`, `app`, `default_user`, `tokens`, `users`,
    `token_ttl_s`, `clock` or `page_size`, and `OSError` when the port cannot be bound.
    """
    _check_address(host, port)
    _check_names(app, default_user, tokens)
    engine = Engine(_clock(clock), page_size=page_size)
    authenticator = Authenticator(tokens, default_user, users=users, token_ttl_s=token_ttl_s)
    os.environ.setdefault(_NO_PLATFORM_DETECTION, "true")
    faults = Faults()
    endpoint = DirectAccessEndpoint(host)
    snowflake = _snowflake_api.SnowflakeApi(engine, authenticator, endpoint, app)
    server = Server(
        routes=[
            (PREFIX, DirectAccessApi(engine, authenticator, endpoint).handle),
            (_admin.PREFIX, functools.partial(_admin.handle, engine)),
            (_oauth.PATH, _oauth.OAuthApi(authenticator, endpoint).handle),
        ],
        fallback=snowflake.handle,
        faults=faults,
        lose_session=snowflake.lose_session,
    )
    runner = _Runner(host, port)
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


def _check_address(host: str, port: int) -> None:
    """Raise `ValueError` unless `host` is a non-empty string and `port` an int in 0..65535."""
    if not isinstance(host, str) or not host:
        raise ValueError(f"host must be a non-empty address or name, got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 to 65535, got {port!r}")


def _check_names(app: str, default_user: str, tokens: Mapping[str, str] | None) -> None:
    """Raise `ValueError` unless the application name, the default user and each token and
    the user it stands for are non-empty strings (never quoting a token)."""
    for field, value in (("app", app), ("default_user", default_user)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    if tokens is not None and not isinstance(tokens, Mapping):
        raise ValueError("tokens must map each token to a user name")
    for token, user in (tokens or {}).items():
        if not isinstance(token, str) or not token.strip():
            raise ValueError("tokens must map non-empty strings to users")
        if not isinstance(user, str) or not user.strip():
            raise ValueError(f"tokens must map each token to a non-empty user name, got {user!r}")


def _clock(clock: Clock | Literal["real", "manual"] | None) -> Clock | None:
    if clock == "manual":
        return ManualClock()
    if clock is None or clock == "real":
        return None
    if isinstance(clock, str) or not callable(getattr(clock, "now", None)):
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
        self._stopped = False
        # Held while `listen` schedules its work and while `stop` marks the runner stopped, so
        # that a listen either runs before the close or is refused: one scheduled behind the
        # loop's stop would never run, and its caller would wait forever.
        self._stopping = threading.Lock()

    def start(self, server: Server) -> int:
        """Start serving `server` in the thread; return the bound port.

        Raises what binding raised, once the thread is gone.
        """
        self._server = server
        self._thread.start()
        try:
            return self.listen(self._port)
        except BaseException:
            self.stop()
            raise

    def listen(self, port: int = 0) -> int:
        """Serve on `port` (0: a free one) as well; return it.

        Raises `OSError` when binding fails, `RuntimeError` once the runner has stopped.
        """
        with self._stopping:
            if self._stopped:
                raise _stopped_error()
            listening = asyncio.run_coroutine_threadsafe(self._listen(port), self._loop)
        return listening.result()

    def stop(self) -> None:
        """Close the listeners and every open connection, and wait for the thread to end.

        Stopping a stopped runner does nothing.
        """
        with self._stopping:
            if self._stopped:
                return
            self._stopped = True
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
        if self._stopped:  # asked for just before a stop: never bind
            raise _stopped_error()
        server = self._server
        bound: list[int] = []
        try:
            listener = await self._loop.create_server(
                lambda: server.protocol(bound[0]), self._host, port, start_serving=False
            )
        except OSError as exc:
            # asyncio's message repeats the address as a tuple; say it once, as a URL would.
            errno = exc.errno or 0  # a resolver's error numbers are negative
            reason = os.strerror(errno) if errno > 0 else exc.strerror or str(exc)
            where = authority(self._host, port)
            raise OSError(exc.errno, f"cannot listen on {where}: {reason}") from exc
        bound.append(listener.sockets[0].getsockname()[1])
        self._listeners.append(listener)
        await listener.start_serving()
        return bound[0]

    async def _close(self) -> None:
        assert self._server is not None
        # Stop accepting first, then let the connections already accepted finish being set up
        # (asyncio does that in a task per connection): closing a listener while such a task is
        # pending makes asyncio fail it and leave its socket open, and a connection set up after
        # the aborts below would be left open when the loop stops.
        for listener in self._listeners:
            for sock in listener.sockets:
                # A proactor loop (Windows) has no readers to remove: it only stops at close().
                with contextlib.suppress(NotImplementedError):
                    self._loop.remove_reader(sock.fileno())
        current = asyncio.current_task()
        await asyncio.gather(*(asyncio.all_tasks() - {current}), return_exceptions=True)
        for listener in self._listeners:
            listener.close()
        for connection in list(self._server.connections):
            connection.abort()
        for listener in self._listeners:
            await listener.wait_closed()
        # Let the aborted transports report their loss before the loop stops.
        await asyncio.sleep(0)
        # Resolving a host name ran in the loop's executor: end its thread, or it outlives us.
        await self._loop.shutdown_default_executor()


def _stopped_error() -> RuntimeError:
    return RuntimeError("the emulator has stopped: it serves only inside its `with serve()`")
