"""From what `connect()` was given to the backends it builds: arguments, environment, or files.

Backend arguments (`base_url`, `sql_connection`, `snowflake`) are used as they are. Without them,
the `JOBS_*` variables the `jobs-client` command reads (``JOBS_BASE_URL``, ``JOBS_TOKEN``,
``JOBS_SNOWFLAKE``, ``JOBS_APP``) stand for the same arguments; without those, the configuration
files are read (`_account_config`). Everything that can be checked is checked here, before any
I/O: keys are loaded, token files read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from jobs_core import ClientConfig, JobConfigurationError

from ._account_config import AccountConfig, TokenProvider, load_account_config
from ._account_session import AccountSession, KeyPairExchange, TokenSource
from ._endpoint_cache import EndpointCache, default_path
from ._http_target import EndpointProvider

if TYPE_CHECKING:
    # jwt and cryptography load only for a key-pair login: `import jobs_transports` stays light.
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from ._key_pair import KeyPairSigner


@attrs.frozen
class Backends:
    """The backend arguments to build the client with, and its account, if files chose it."""

    base_url: str | EndpointProvider | None
    snowflake: Mapping[str, Any] | None = attrs.field(repr=False)
    app: str | None
    token: str | TokenProvider | None = attrs.field(repr=False)
    account: AccountConfig | None = None
    private_key: RSAPrivateKey | None = attrs.field(default=None, repr=False)


def choose_backends(
    *,
    base_url: str | EndpointProvider | None,
    sql_connection: Any,
    snowflake: Mapping[str, Any] | None,
    app: str | None,
    token: str | TokenProvider | None,
    profile: str | None,
    connection: str | None,
    config_file: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None = None,
    required: bool = True,
    credentials: bool = True,
) -> Backends:
    """Return the backends the arguments, the environment or the files configure.

    With `credentials` false, a file's connection comes without its key or token (nor the
    connector arguments they go in): `with_credentials` adds them.

    Raises:
        JobConfigurationError: `profile`/`connection`/`config_file` of another type or next to
            backend arguments, ``JOBS_SNOWFLAKE`` that is not a JSON object, a bad configuration
            file, or (when `required`) no backend anywhere.
    """
    _check_file_choice(profile=profile, connection=connection, config_file=config_file)
    env = os.environ if env is None else env
    chooses_file = (profile, connection, config_file) != (None, None, None)
    given = base_url is not None or sql_connection is not None or snowflake is not None
    if given:
        if chooses_file:
            raise JobConfigurationError(
                "profile=, connection= and config_file= pick a connection from the configuration "
                "files; they cannot be combined with base_url=, sql_connection= or snowflake="
            )
        return Backends(base_url, snowflake, app, token)
    if not chooses_file and (env.get("JOBS_BASE_URL") or env.get("JOBS_SNOWFLAKE")):
        return Backends(
            env.get("JOBS_BASE_URL") or None,
            _snowflake_from_env(env.get("JOBS_SNOWFLAKE")),
            app or env.get("JOBS_APP") or None,
            token if token is not None else env.get("JOBS_TOKEN") or None,
        )
    account = load_account_config(
        profile=profile,
        connection=connection,
        config_file=config_file,
        app=app,
        token=token,
        env=env,
    )
    if account is None:
        if required:
            raise JobConfigurationError(
                "Configure a Direct Access base URL, a SQL connection, or both: no backend "
                "arguments, no JOBS_BASE_URL or JOBS_SNOWFLAKE, and no configuration file "
                "(RAI_CONFIG_FILE_PATH; raiconfig.yaml, .yml or .toml in the working directory, "
                "a parent or ~/.rai; connections.toml or config.toml in ~/.snowflake)"
            )
        return Backends(None, None, app, token)
    if not credentials:
        return Backends(None, None, account.app, None, account)
    return with_credentials(account)


def _check_file_choice(*, profile: object, connection: object, config_file: object) -> None:
    """Refuse a file choice of another type before anything reads it (naming the type only).

    Raises:
        JobConfigurationError: `profile` or `connection` that is not a string, `config_file`
            that is not a path (they failed with TypeError, or "need a configuration file").
    """
    for name, value in (("profile", profile), ("connection", connection)):
        if value is not None and not isinstance(value, str):
            raise JobConfigurationError(f"{name} must be a string, not {type(value).__name__}")
    if config_file is not None and not isinstance(config_file, (str, os.PathLike)):
        raise JobConfigurationError(
            f"config_file must be a path (str or os.PathLike), not {type(config_file).__name__}"
        )


def with_credentials(account: AccountConfig) -> Backends:
    """Return the backends of a file's connection, its key loaded and its token read.

    Raises:
        JobConfigurationError: the key or the token file cannot be used.
    """
    key = None
    if account.authenticator == "jwt":
        # `check` made sure there is a key path; a bad key fails here, before any I/O.
        assert account.private_key_path is not None
        from ._key_pair import load_private_key

        key = load_private_key(
            account.private_key_path, account.private_key_passphrase, account.where
        )
    return Backends(None, _connector_kwargs(account, key), account.app, None, account, key)


def _snowflake_from_env(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        kwargs = json.loads(text)
    except ValueError as exc:
        raise JobConfigurationError(f"JOBS_SNOWFLAKE is not JSON: {exc}") from None
    if not isinstance(kwargs, dict):
        raise JobConfigurationError("JOBS_SNOWFLAKE must be a JSON object of connector arguments")
    return kwargs


def _connector_kwargs(account: AccountConfig, key: RSAPrivateKey | None) -> dict[str, Any]:
    kwargs = account.connector_kwargs()
    if key is not None:
        from cryptography.hazmat.primitives import serialization

        # The key as loaded (decrypted): no connector version has to agree on how to decrypt it.
        kwargs["private_key"] = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    if "token" not in kwargs and account.authenticator in ("programmatic_access_token", "oauth"):
        kwargs["token"] = _token_source(account).read()
    return kwargs


def _token_source(account: AccountConfig) -> TokenSource:
    if account.authenticator == "jwt":
        return TokenSource(exchange=KeyPairExchange(account.account_origin, account.role))
    if callable(account.token):
        return TokenSource(provider=account.token)
    if account.token is not None:
        return TokenSource(fixed=account.token)
    assert account.token_file_path is not None
    return TokenSource(file=Path(account.token_file_path), where=account.where)


def account_session(
    backends: Backends, config: ClientConfig, env: Mapping[str, str] | None = None
) -> tuple[AccountSession | None, KeyPairSigner | None]:
    """Return the session (and key-pair signer) Direct Access requests need, if any.

    A file's Direct Access connection discovers its endpoint and renews its tokens; a `base_url`
    with a callable `token` asks the callable again after a 401. Other clients need neither.

    Raises:
        JobConfigurationError: the key or token cannot be used (checked now, before any I/O).
    """
    env = os.environ if env is None else env
    account = backends.account
    if account is None or not account.direct_access:
        if callable(backends.token) and backends.base_url is not None:
            # The callable is first asked on the first request, and again after each 401.
            source = TokenSource(provider=backends.token)
            endpoint = backends.base_url
            provider = endpoint if callable(endpoint) else (lambda: endpoint)
            return AccountSession(config, source, endpoint=provider), None
        return None, None
    signer = None
    if backends.private_key is not None:
        # `check` made sure these are set for a key-pair login.
        assert account.account is not None
        assert account.user is not None
        from ._key_pair import KeyPairSigner

        signer = KeyPairSigner(
            account.account, account.user, backends.private_key, secrets=config.secrets
        )
    tokens = _token_source(account)
    if tokens.exchange is None:
        tokens.read()  # a token that cannot be used fails now
    cache = EndpointCache(default_path(env)) if account.endpoint_cache else None
    session = AccountSession(config, tokens, account=account.account, app=account.app, cache=cache)
    return session, signer


def describe_connection(
    *,
    profile: str | None = None,
    connection: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    app: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Return what `connect()` with these arguments would connect to, and why, one per line.

    It names the file, profile, connection, account, user, authenticator, application, backend
    and endpoint, and shows no password, passphrase or token. No network I/O: the endpoint is the
    cached one, or said to be found on first use.

    A key or token file that cannot be used does not stop it: it is the last line, ``problem``
    and why, after all the rest.

    Raises:
        JobConfigurationError: as `connect()` for a bad configuration, but for its credentials.
    """
    env = os.environ if env is None else env
    backends = choose_backends(
        base_url=None,
        sql_connection=None,
        snowflake=None,
        app=app,
        token=None,
        profile=profile,
        connection=connection,
        config_file=config_file,
        env=env,
        required=False,
        credentials=False,
    )
    account = backends.account
    if account is None:
        if backends.base_url is None and backends.snowflake is None:
            return f"{'source':<14} no configuration found: no JOBS_* variables and no file"
        lines = [f"{'source':<14} JOBS_* environment variables"]
        if backends.base_url is not None:
            lines.append(f"{'backend':<14} Direct Access at {backends.base_url} (JOBS_BASE_URL)")
        if backends.snowflake is not None:
            lines.append(f"{'backend':<14} SQL API, application {backends.app} (JOBS_SNOWFLAKE)")
        return "\n".join(lines)
    try:
        with_credentials(account)
    except JobConfigurationError as exc:
        problem = f"\n{'problem':<14} {' '.join(str(exc).split())}"  # one line, whatever exc says
    else:
        problem = ""
    return _described(account, env) + problem


def _described(account: AccountConfig, env: Mapping[str, str]) -> str:
    if not account.direct_access:
        return account.describe()
    if not account.endpoint_cache:
        return account.describe(None, "found over SQL on first use (endpoint cache off)")
    path = default_path(env)
    cached = EndpointCache(path).get(account.account or "", account.app)
    if cached is None:
        return account.describe(None, f"found over SQL on first use, then cached in {path}")
    return account.describe(cached.endpoint, f"cached in {path}")
