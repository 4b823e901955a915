"""`connect()` and `connect_sync()`: build a client from keyword arguments."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from jobs_core import (
    ClientConfig,
    JobConfigurationError,
    PollPolicy,
    Redactor,
    Replayer,
    RetryPolicy,
    is_credential_header,
    is_secret_setting,
)

from ._account_config import AccountConfig, TokenProvider
from ._account_session import AccountSession
from ._account_wiring import account_session, choose_backends
from ._async_driver import AsyncDriver
from ._cassettes import (
    CassetteFile,
    Path,
    RecordingAsync,
    RecordingSync,
    ReplayAsync,
    ReplaySync,
    read_cassette,
)
from ._client_async import JobsClient
from ._client_sync import JobsClientSync
from ._http_target import EndpointProvider, HttpTarget, Timeouts, checked_headers
from ._sql_executor import (
    SqlExecutor,
    connections_run_side_by_side,
    paramstyle_of,
    snowflake_connect,
)
from ._sync_driver import SyncDriver

if TYPE_CHECKING:
    from ._key_pair import KeyPairSigner  # jwt and cryptography: for key-pair logins only

ConfigFile = str | os.PathLike[str]


@attrs.frozen
class _Options:
    config: ClientConfig
    target: HttpTarget | None
    sql: SqlExecutor | None
    max_connections: int
    account: AccountSession | None = None
    signer: KeyPairSigner | None = None


def _options(
    *,
    base_url: str | EndpointProvider | None,
    sql_connection: Any,
    snowflake: Mapping[str, Any] | None,
    app: str | None,
    schema: str,
    token: str | TokenProvider | None,
    headers: Mapping[str, str] | None,
    timeouts: Timeouts | None,
    retry: RetryPolicy | None,
    polling: PollPolicy | None,
    seed: int | None,
    logic_over_http: bool,
    max_connections: int,
    profile: str | None,
    connection: str | None,
    config_file: ConfigFile | None,
) -> _Options:
    backends = choose_backends(
        base_url=base_url,
        sql_connection=sql_connection,
        snowflake=snowflake,
        app=app,
        token=token,
        profile=profile,
        connection=connection,
        config_file=config_file,
    )
    base_url, snowflake, app, token = (
        backends.base_url,
        backends.snowflake,
        backends.app,
        backends.token,
    )
    direct_access = base_url is not None or (
        backends.account is not None and backends.account.direct_access
    )
    if sql_connection is not None and snowflake is not None:
        raise JobConfigurationError("pass either sql_connection= or snowflake=, not both")
    if isinstance(max_connections, bool) or not isinstance(max_connections, int):
        raise JobConfigurationError(
            f"max_connections must be an int, not {type(max_connections).__name__}"
        )
    if max_connections < 1:
        raise JobConfigurationError("max_connections must be at least 1")
    sql: SqlExecutor | None = None
    if sql_connection is not None:
        # The statements use ? placeholders, bound by the server.
        style = paramstyle_of(sql_connection)
        if style not in (None, "qmark"):
            raise JobConfigurationError(
                f"sql_connection binds paramstyle {style!r}; open it with paramstyle='qmark'"
                f" (the statements use ?)"
            )
        sql = SqlExecutor(connection=sql_connection, timeouts=timeouts or Timeouts())
    elif snowflake is not None:
        limits = timeouts or Timeouts()
        sql = SqlExecutor(
            connect=snowflake_connect(dict(snowflake), limits),
            timeouts=limits,
            side_by_side=connections_run_side_by_side(),
        )
    fixed_token = token if isinstance(token, str) else None
    config = ClientConfig(
        http=direct_access,
        sql=sql is not None,
        app=app,
        schema=schema,
        logic_over_http=logic_over_http,
        # `is None`, not `or`: a falsy value of another type (0, {}) is ClientConfig's to refuse.
        retry=RetryPolicy() if retry is None else retry,
        polling=PollPolicy() if polling is None else polling,
        # Clients in different processes must not back off in step; a cassette records the
        # seed, so a replay draws the same jitter.
        seed=random.SystemRandom().randrange(2**32) if seed is None else seed,
        secrets=_secrets(fixed_token, headers, snowflake, backends.account),
    )
    account, signer = account_session(backends, config)
    target = None
    if account is not None:
        target = HttpTarget(
            endpoint=account.base_url,
            headers=checked_headers(headers, fixed_token),
            timeouts=timeouts or Timeouts(),
            credentials=account.credentials,
        )
    elif base_url is not None:
        target = HttpTarget.of(base_url, headers, timeouts or Timeouts(), token=fixed_token)
    return _Options(config, target, sql, max_connections, account, signer)


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike))


_ARGUMENT_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "token": (lambda v: isinstance(v, str) or callable(v), "a string or a callable returning one"),
    "headers": (lambda v: isinstance(v, Mapping), "a mapping of header names to values"),
    "snowflake": (lambda v: isinstance(v, Mapping), "a dict of connector arguments"),
    "sql_connection": (
        lambda v: callable(getattr(v, "cursor", None)),
        "an open DB-API connection (with a cursor() method)",
    ),
    "timeouts": (lambda v: isinstance(v, Timeouts), "a Timeouts"),
    "record": (_is_path, "a path (str or os.PathLike)"),
    "replay": (lambda v: _is_path(v) or isinstance(v, Replayer), "a path or a jobs_core.Replayer"),
    "redact": (callable, "a callable taking and returning a cassette line's dict"),
}
"""The arguments no later check sees before something uses them (`ClientConfig` checks `app`,
`schema`, `retry`, `polling`, `seed` and `logic_over_http`; `HttpTarget` `base_url`;
`choose_backends` `profile`, `connection` and `config_file`)."""


def _check_types(arguments: Mapping[str, object]) -> None:
    """Refuse `arguments` (a connect function's, by name) of another type than their annotation
    says, before anything reads them (naming the type only: the value may be a credential). None
    is every argument's default.

    Raises:
        JobConfigurationError: an argument of `_ARGUMENT_TYPES` of another type (a token as
            bytes was dropped, so the client connected without credentials; others failed with
            AttributeError or TypeError, or at the first call).
    """
    for name, (accepts, wanted) in _ARGUMENT_TYPES.items():
        value = arguments[name]
        if value is not None and not accepts(value):
            raise JobConfigurationError(f"{name} must be {wanted}, not {type(value).__name__}")


def _secrets(
    token: str | None,
    headers: Mapping[str, str] | None,
    snowflake: Mapping[str, Any] | None,
    account: AccountConfig | None,
) -> tuple[str, ...]:
    """Return every credential the client was given (the token as given and as sent, credential
    header values, Snowflake and configuration-file secrets), for the core to mask in whatever it
    produces."""
    values: list[object] = [token, token.strip() if isinstance(token, str) else None]
    if account is not None:
        values += account.secrets()
    values += [
        value
        for name, value in (headers or {}).items()
        if isinstance(name, str) and is_credential_header(name)
    ]
    values += [
        value
        for name, value in (snowflake or {}).items()
        if isinstance(name, str) and is_secret_setting(name)
    ]
    return tuple(value for value in values if isinstance(value, str) and value)


def _replayer(replay: Path | Replayer, record: Path | None, redact: Redactor | None) -> Replayer:
    if record is not None:
        raise JobConfigurationError("pass either record= or replay=, not both")
    if not isinstance(replay, Replayer):
        return Replayer(read_cassette(replay), redact=redact)
    if redact is not None:
        raise JobConfigurationError("a Replayer given as replay= brings its own redact")
    return replay


def connect_sync(
    *,
    base_url: str | EndpointProvider | None = None,
    sql_connection: Any = None,
    snowflake: Mapping[str, Any] | None = None,
    app: str | None = None,
    schema: str = "api",
    token: str | TokenProvider | None = None,
    headers: Mapping[str, str] | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    polling: PollPolicy | None = None,
    seed: int | None = None,
    logic_over_http: bool = True,
    max_connections: int = 10,
    record: Path | None = None,
    replay: Path | Replayer | None = None,
    redact: Redactor | None = None,
    profile: str | None = None,
    connection: str | None = None,
    config_file: ConfigFile | None = None,
) -> JobsClientSync:
    """Return a blocking client.

    `base_url` (or a callable returning it, asked again when the endpoint goes stale) selects the
    Direct Access API; `sql_connection` (an open DB-API connection, left open on close) or
    `snowflake` (keyword arguments for `snowflake.connector.connect`, opened on first use) with
    `app` select the SQL API; both together route as docs/protocol.md says. `token`
    becomes ``Authorization: Snowflake Token="..."`` (a callable is asked for the token again
    after the service refuses one); `headers` are added to every HTTP request.
    A `sql_connection` must bind ``?`` (paramstyle ``qmark``): its own `paramstyle` attribute, or
    PEP 249's module-level `paramstyle` of its driver, is checked; one that declares neither
    cannot be checked, and a mismatch then shows as a failing statement.

    With none of `base_url`, `sql_connection` and `snowflake`, the ``JOBS_BASE_URL``,
    ``JOBS_TOKEN``, ``JOBS_SNOWFLAKE`` and ``JOBS_APP`` variables stand for them; without those,
    the connection is read from the configuration files (raiconfig.yaml, raiconfig.toml,
    Snowflake's connections.toml), `profile`, `connection` and `config_file` choosing in them, and
    arguments such as `app` and `token` overriding them. A Direct Access connection there finds
    its endpoint over SQL (cached on disk) and exchanges key-pair logins for tokens as needed.

    `record="calls.jsonl"` writes every interaction of the client's calls to that cassette
    (credentials redacted, `redact` may mask more); `replay="calls.jsonl"` answers the calls from
    it with no backend at all (the backend arguments are then not used), raising
    `jobs_core.CassetteError` where a call departs from the recording. `replay=` also takes a
    `jobs_core.Replayer` the caller keeps, to check with its `finish()` that every recorded
    interaction was replayed.

    Raises:
        JobConfigurationError: no backend, contradictory arguments, an argument of another type,
            or a configuration file that cannot be used (named with its profile and field;
            secrets are never shown).
        CassetteError: `replay` is not a readable cassette, or `record` cannot be written.
    """
    _check_types(locals())  # first thing: its arguments, as the caller gave them
    if replay is not None:
        replayer = _replayer(replay, record, redact)
        return JobsClientSync(ReplaySync(replayer), config=replayer.cassette.config)
    options = _options(
        base_url=base_url,
        sql_connection=sql_connection,
        snowflake=snowflake,
        app=app,
        schema=schema,
        token=token,
        headers=headers,
        timeouts=timeouts,
        retry=retry,
        polling=polling,
        seed=seed,
        logic_over_http=logic_over_http,
        max_connections=max_connections,
        profile=profile,
        connection=connection,
        config_file=config_file,
    )
    # Opened first: a cassette that cannot be written leaves nothing else open.
    writer = None if record is None else CassetteFile(record, options.config, redact)
    http = None
    if options.target is not None:
        # Imported here: httpcore imports trio when it is installed, so a program that makes no
        # HTTP client (or no client at all) loads neither.
        from ._http_executors import SyncHttp

        http = SyncHttp(options.target, max_connections=options.max_connections)
    driver = SyncDriver(http=http, sql=options.sql, account=options.account, signer=options.signer)
    if writer is None:
        return JobsClientSync(driver, config=options.config)
    return JobsClientSync(RecordingSync(driver, writer), config=options.config)


def connect(
    *,
    base_url: str | EndpointProvider | None = None,
    sql_connection: Any = None,
    snowflake: Mapping[str, Any] | None = None,
    app: str | None = None,
    schema: str = "api",
    token: str | TokenProvider | None = None,
    headers: Mapping[str, str] | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    polling: PollPolicy | None = None,
    seed: int | None = None,
    logic_over_http: bool = True,
    max_connections: int = 10,
    record: Path | None = None,
    replay: Path | Replayer | None = None,
    redact: Redactor | None = None,
    profile: str | None = None,
    connection: str | None = None,
    config_file: ConfigFile | None = None,
) -> JobsClient:
    """Return an async client for asyncio or trio (detected on first use); see `connect_sync`.

    Nothing is opened here: the connection pool connects on first request, and a `snowflake=`
    connection is opened in a worker thread on first statement.

    Raises:
        JobConfigurationError: no backend, contradictory arguments, or an argument of another
            type.
        CassetteError: `replay` is not a readable cassette, or `record` cannot be written.
    """
    _check_types(locals())  # first thing: its arguments, as the caller gave them
    if replay is not None:
        replayer = _replayer(replay, record, redact)
        return JobsClient(ReplayAsync(replayer), replayer.cassette.config)
    options = _options(
        base_url=base_url,
        sql_connection=sql_connection,
        snowflake=snowflake,
        app=app,
        schema=schema,
        token=token,
        headers=headers,
        timeouts=timeouts,
        retry=retry,
        polling=polling,
        seed=seed,
        logic_over_http=logic_over_http,
        max_connections=max_connections,
        profile=profile,
        connection=connection,
        config_file=config_file,
    )
    writer = None if record is None else CassetteFile(record, options.config, redact)
    http = None
    if options.target is not None:
        from ._http_executors import AsyncHttp  # imported here: see connect_sync

        http = AsyncHttp(options.target, max_connections=options.max_connections)
    driver = AsyncDriver(http=http, sql=options.sql, account=options.account, signer=options.signer)
    if writer is None:
        return JobsClient(driver, options.config)
    return JobsClient(RecordingAsync(driver, writer), options.config)
