"""The account a client connects to, as users configure it: files, profiles, environment.

`load_account_config` finds the settings (`_config_files` says where and how files are read),
applies the environment and the explicit arguments over them, and checks them before any I/O:
what is missing or wrong is a `JobConfigurationError` naming the file, profile and field, never
the value of a secret. `AccountConfig.describe()` says what was chosen and why, without secrets.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from jobs_core import JobConfigurationError, is_secret_setting

from ._config_files import RENAMED, Section, Shape, find_file, read_section
from ._http_target import checked_base_url

DEFAULT_APP = "RELATIONALAI"
TokenProvider = Callable[[], str]
"""Returns the current Direct Access token; asked again after the service refuses one."""

# Spellings seen in the wild (docs/connecting.md, "Authenticators") -> one name each.
AUTHENTICATORS = {
    "snowflake": "password",
    "username_password": "password",
    "username_password_mfa": "password_mfa",
    "externalbrowser": "externalbrowser",
    "jwt": "jwt",
    "snowflake_jwt": "jwt",
    "programmatic_access_token": "programmatic_access_token",
    "oauth": "oauth",
    "oauth_authorization_code": "oauth_authorization_code",
    "oauth_client_credentials": "oauth_client_credentials",
}
DIRECT_ACCESS_AUTHENTICATORS = ("jwt", "programmatic_access_token", "oauth")
_CONNECTOR_AUTHENTICATORS = {
    "password": "snowflake",
    "password_mfa": "username_password_mfa",
    "externalbrowser": "externalbrowser",
    "jwt": "SNOWFLAKE_JWT",
    "programmatic_access_token": "PROGRAMMATIC_ACCESS_TOKEN",
    "oauth": "oauth",
    "oauth_authorization_code": "OAUTH_AUTHORIZATION_CODE",
    "oauth_client_credentials": "OAUTH_CLIENT_CREDENTIALS",
}
_TEXT_FIELDS = (
    "account", "user", "role", "warehouse", "database", "host", "protocol", "app",
    "private_key_path", "token_file_path", "authenticator",
)  # fmt: skip


# Snowflake connector parameters a raiconfig file may set for the SQL API's login. Snowflake's own
# files hold nothing but connector parameters: all of theirs are passed on.
def _connector_major_version() -> int:
    """Return the installed Snowflake connector's major version (0 when it cannot be told)."""
    major = importlib.metadata.version("snowflake-connector-python").partition(".")[0]
    return int(major) if major.isdigit() else 0


_CONNECTOR_PARAMETERS = (
    "schema", "region", "login_timeout", "network_timeout", "socket_timeout", "no_proxy",
    "client_session_keep_alive", "enable_server_session_keep_alive_auto_detection",
    "ocsp_fail_open", "insecure_mode", "application", "client_store_temporary_credential",
    # what the OAuth flows need
    "oauth_client_id", "oauth_client_secret", "oauth_authorization_url",
    "oauth_token_request_url", "oauth_redirect_uri", "oauth_scope",
)  # fmt: skip
_NOT_FOR_THE_CONNECTOR = ("type", "platform", "default_connection", "default_connection_name")


@attrs.frozen
class AccountConfig:
    """The chosen connection settings, checked; secrets are left out of its repr."""

    source: str
    """The file the settings come from."""
    reasons: tuple[tuple[str, str], ...]
    """(what, why it was chosen) pairs, for `describe`."""
    profile: str | None = None
    connection: str | None = None
    account: str | None = None
    user: str | None = None
    authenticator: str = "password"
    role: str | None = None
    warehouse: str | None = None
    database: str | None = None
    app: str = DEFAULT_APP
    direct_access: bool = False
    endpoint_cache: bool = True
    """Whether the discovered endpoint is cached on disk (`endpoint_cache`, JOBS_ENDPOINT_CACHE)."""
    host: str | None = None
    port: int | None = None
    protocol: str | None = None
    private_key_path: str | None = None
    token_file_path: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    passcode: str | None = attrs.field(default=None, repr=False)
    private_key_passphrase: str | None = attrs.field(default=None, repr=False)
    token: str | TokenProvider | None = attrs.field(default=None, repr=False)
    connector_extras: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """Further Snowflake connector parameters the file sets (timeouts, proxies...)."""
    where: str = ""
    """File, profile and connection, for error messages."""

    @property
    def account_origin(self) -> str:
        """``scheme://host[:port]`` of the account: its host overrides, or Snowflake's default."""
        protocol = self.protocol or "https"
        host = self.host or f"{self.account}.snowflakecomputing.com"
        return f"{protocol}://{host}" + (f":{self.port}" if self.port else "")

    def secrets(self) -> tuple[str, ...]:
        """Return the credentials the configuration gives as text (a token callable's are read
        later), connector parameters included."""
        values = [getattr(self, name) for name in _CREDENTIAL_FIELDS]
        values += [value for key, value in self.connector_extras.items() if is_secret_setting(key)]
        return tuple(value for value in values if isinstance(value, str) and value)

    def connector_kwargs(self) -> dict[str, Any]:
        """Return the Snowflake connector's keyword arguments for this connection (its login).

        A key pair is not among them: the caller loads the key and passes it as `private_key`.
        `enable_server_session_keep_alive_auto_detection` is False unless the file sets it.
        """
        kwargs: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "authenticator": _CONNECTOR_AUTHENTICATORS[self.authenticator],
            "role": self.role,
            "warehouse": self.warehouse,
            "database": self.database,
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
            "password": self.password,
            "passcode": self.passcode,
        }
        if self.authenticator in ("programmatic_access_token", "oauth"):
            kwargs["token"] = self.token if isinstance(self.token, str) else None
        chosen = {key: value for key, value in kwargs.items() if value is not None}
        # Connector 5 warns (FutureWarning) unless told whether to check for its asynchronous
        # queries before logging out on close: the client runs none, so close logs out. Older
        # connectors know no such parameter, and warn about an unknown one instead.
        quiet = {"enable_server_session_keep_alive_auto_detection": False}
        if _connector_major_version() < 5:
            quiet = {}
        return {**quiet, **self.connector_extras, **chosen}

    def describe(self, endpoint: str | None = None, endpoint_why: str = "") -> str:
        """Return, one per line, what was chosen and why; no secret is shown."""
        lines = [f"{what:<14} {why}" for what, why in self.reasons]
        if endpoint is not None:
            lines.append(f"{'endpoint':<14} {endpoint} ({endpoint_why})")
        elif endpoint_why:
            lines.append(f"{'endpoint':<14} {endpoint_why}")
        return "\n".join(lines)


_CREDENTIAL_FIELDS = tuple(
    field.name for field in attrs.fields(AccountConfig) if is_secret_setting(field.name)
)
"""The settings a file may give that are credentials (read as text, never shown)."""
_FIELDS = (*_TEXT_FIELDS, *_CREDENTIAL_FIELDS, "port", "direct_access")
"""The settings read into `AccountConfig` fields rather than passed to the connector."""


def _typed(section: Section, key: str, value: Any, cls: type[Any]) -> Any:
    secret = is_secret_setting(RENAMED.get(key, key))
    if secret and cls is str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a numeric passphrase, as TOML and YAML read it unquoted
    if cls is int and isinstance(value, str) and value.isdigit():
        return int(value)
    if cls is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, cls) or (cls is int and isinstance(value, bool)):
        shown = "a secret" if secret else repr(value)
        raise JobConfigurationError(f"{section.where()}: {key} must be {cls.__name__}, not {shown}")
    return value


def _settings(section: Section) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, value in section.settings.items():
        name = RENAMED.get(key, key)
        if value is None or (name in settings and key != name):
            continue  # the current spelling wins over the older one
        if name in _TEXT_FIELDS or name in _CREDENTIAL_FIELDS:
            settings[name] = value if callable(value) else _typed(section, key, value, str)
        elif name == "port":
            settings[name] = _typed(section, key, value, int)
        elif name in ("direct_access", "endpoint_cache"):
            settings[name] = _typed(section, key, value, bool)
    return settings


_PATH_FIELDS = ("private_key_path", "token_file_path")


def _beside(section: Section, name: str, path: str) -> str:
    """Return `path`, the file setting `name` of `section`, with ``~`` expanded and, when
    relative, taken from the folder of the file that names it (found from a folder below it).

    Raises:
        JobConfigurationError: `path` is a PEM key or several lines, pasted where its file's path
            belongs (not shown: it is a secret).
    """
    if "-----BEGIN" in path or "\n" in path:
        raise JobConfigurationError(
            f"{section.where()}: {name}: holds a key or token itself, not the path of its file"
        )
    return str(section.found.path.parent / Path(path).expanduser())


def _connector_extras(section: Section) -> dict[str, Any]:
    snowflake_file = section.found.shape in (Shape.SNOWFLAKE_CONNECTIONS, Shape.SNOWFLAKE_CONFIG)
    return {
        key: value
        for key, value in section.settings.items()
        if key not in _NOT_FOR_THE_CONNECTOR
        and (key in _CONNECTOR_PARAMETERS or snowflake_file)
        and RENAMED.get(key, key) not in _FIELDS
        and key != "endpoint_cache"
    }


def _authenticator(written: str | None, where: str) -> str:
    if written is None:
        return "password"
    name = AUTHENTICATORS.get(written.strip().lower())
    if name is None:
        raise JobConfigurationError(
            f"{where}: authenticator: unknown authenticator {written!r}; known: "
            + ", ".join(sorted(AUTHENTICATORS))
        )
    return name


_SWITCH_VALUES = {"1": True, "true": True, "yes": True, "on": True}
_SWITCH_VALUES |= {"0": False, "false": False, "no": False, "off": False}


def _environment(env: Mapping[str, str]) -> dict[str, Any]:
    """Return the `JOBS_*` variables that refine a file's settings, as settings.

    Raises:
        JobConfigurationError: ``JOBS_DIRECT_ACCESS`` or ``JOBS_ENDPOINT_CACHE`` is not a switch
            (1/0, true/false, yes/no, on/off): a typo must not quietly choose another backend.
    """
    names = (("JOBS_TOKEN", "token"), ("JOBS_APP", "app"))
    settings: dict[str, Any] = {key: env[variable] for variable, key in names if env.get(variable)}
    for variable, key in (
        ("JOBS_DIRECT_ACCESS", "direct_access"),
        ("JOBS_ENDPOINT_CACHE", "endpoint_cache"),
    ):
        written = env.get(variable, "").strip()
        if written:
            if written.lower() not in _SWITCH_VALUES:
                raise JobConfigurationError(
                    f"{variable}: must be 1/0, true/false, yes/no or on/off, not {written!r}"
                )
            settings[key] = _SWITCH_VALUES[written.lower()]
    return settings


def load_account_config(
    *,
    profile: str | None = None,
    connection: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    app: str | None = None,
    token: str | TokenProvider | None = None,
    env: Mapping[str, str] | None = None,
) -> AccountConfig | None:
    """Return the connection the configuration files hold, or None when there is no file.

    Explicit arguments win over the `JOBS_*` environment variables (``JOBS_TOKEN``,
    ``JOBS_APP``, ``JOBS_DIRECT_ACCESS``, ``JOBS_ENDPOINT_CACHE``), which win over the file.

    Raises:
        JobConfigurationError: a file that cannot be read or parsed, a profile or connection that
            does not exist, a missing or mistyped field, an unknown authenticator, or settings
            that cannot work together (see `check`).
    """
    env = os.environ if env is None else env
    found = find_file(config_file, env)
    if found is None:
        if profile is not None or connection is not None:
            raise JobConfigurationError(
                "profile= and connection= need a configuration file, and none was found"
            )
        return None
    section = read_section(found, profile=profile, connection=connection, env=env)
    explicit = {"app": app, "token": token}
    return _build(section, _environment(env), {k: v for k, v in explicit.items() if v is not None})


def _build(
    section: Section, overrides: Mapping[str, Any], explicit: Mapping[str, Any]
) -> AccountConfig:
    from_file = _settings(section)
    for name in _PATH_FIELDS:
        if isinstance(from_file.get(name), str) and from_file[name]:
            from_file[name] = _beside(section, name, from_file[name])
    env_section = attrs.evolve(section, settings=overrides)
    settings = {**from_file, **_settings(env_section), **explicit}
    where = section.where()
    authenticator = _authenticator(settings.get("authenticator"), where)
    token_given = "token" in explicit or "token" in overrides
    if token_given and authenticator != "programmatic_access_token":
        # A token handed over explicitly is used as it is, whatever login the file configures.
        authenticator = "oauth"
    direct = bool(settings.get("direct_access", False))
    reasons = [("file", f"{section.found.path} ({section.found.why})")]
    if section.profile is not None:
        reasons.append(("profile", f"{section.profile} ({section.profile_why})"))
    if section.connection is not None:
        reasons.append(("connection", f"{section.connection} ({section.connection_why})"))
    reasons += [
        ("account", _why(settings, "account", from_file, overrides)),
        ("user", _why(settings, "user", from_file, overrides)),
        # Shown when set: a profile's overlay is often only a role, which signs every request.
        *([("role", _why(settings, "role", from_file, overrides))] if settings.get("role") else []),
        ("authenticator", _authenticator_why(authenticator, settings, overrides, explicit)),
        ("application", _why(settings, "app", from_file, overrides, explicit, DEFAULT_APP)),
        ("backend", _backend_why(direct, from_file, overrides, section.found.shape)),
    ]
    config = AccountConfig(
        source=str(section.found.path),
        reasons=tuple(reasons),
        profile=section.profile,
        connection=section.connection,
        account=settings.get("account"),
        user=settings.get("user"),
        authenticator=authenticator,
        role=settings.get("role"),
        warehouse=settings.get("warehouse"),
        database=settings.get("database"),
        app=settings.get("app") or DEFAULT_APP,
        direct_access=direct,
        endpoint_cache=settings.get("endpoint_cache", True),
        host=settings.get("host"),
        port=settings.get("port"),
        protocol=settings.get("protocol"),
        private_key_path=settings.get("private_key_path"),
        token_file_path=settings.get("token_file_path"),
        password=settings.get("password"),
        passcode=settings.get("passcode"),
        private_key_passphrase=settings.get("private_key_passphrase"),
        token=settings.get("token"),
        connector_extras=_connector_extras(section),
        where=where,
    )
    check(config)
    return config


def _why(
    settings: Mapping[str, Any],
    key: str,
    from_file: Mapping[str, Any],
    overrides: Mapping[str, Any],
    explicit: Mapping[str, Any] | None = None,
    default: str | None = None,
) -> str:
    value = settings.get(key)
    if explicit and key in explicit:
        return f"{value} ({key} argument)"
    if key in overrides:
        return f"{value} (environment)"
    if key in from_file:
        return f"{value} (the file)"
    return f"{default} (default)" if default else "not set"


def _authenticator_why(
    authenticator: str,
    settings: Mapping[str, Any],
    overrides: Mapping[str, Any],
    explicit: Mapping[str, Any],
) -> str:
    written = settings.get("authenticator")
    text = authenticator + (f" (written {written!r})" if written else " (no authenticator set)")
    if authenticator == "jwt":
        text += f": key pair from {settings.get('private_key_path')}"
        if settings.get("private_key_passphrase"):
            text += ", passphrase set"
    elif authenticator in ("programmatic_access_token", "oauth"):
        # In the order the client uses them: a token given anywhere wins over a token file.
        token = settings.get("token")
        if "token" in explicit:
            source = "the token argument"
        elif "token" in overrides:
            source = "JOBS_TOKEN"
        elif callable(token):
            source = "a callable"
        elif token is not None:
            source = "the file's token setting"
        else:
            source = f"token_file_path {settings.get('token_file_path')}"
        text += f": token from {source}"
    return text


def _backend_why(
    direct: bool, from_file: Mapping[str, Any], overrides: Mapping[str, Any], shape: Shape
) -> str:
    if "direct_access" in overrides:  # the variable wins over the file, and is named over it
        source: str | None = "JOBS_DIRECT_ACCESS"
    elif "direct_access" in from_file:
        source = "the file"
    else:
        source = None
    if direct:
        return f"Direct Access (direct_access from {source}), SQL API to find the endpoint"
    if source is not None:
        return f"SQL API (direct_access off in {source})"
    if shape in (Shape.SNOWFLAKE_CONNECTIONS, Shape.SNOWFLAKE_CONFIG):
        return "SQL API (Snowflake's files have no Direct Access switch; JOBS_DIRECT_ACCESS=1)"
    return "SQL API (direct_access is not set)"


def _check_address(config: AccountConfig) -> None:
    """Check that the account's address (its host overrides, or its name) can be reached, as the
    token exchange and the Snowflake connector need it.

    Raises:
        JobConfigurationError: a port out of range, a protocol other than http(s), or a host or
            account name that makes no URL.
    """
    where = config.where
    if config.port is not None and not 1 <= config.port <= 65535:
        raise JobConfigurationError(f"{where}: port: must be from 1 to 65535, not {config.port}")
    if config.protocol is not None and config.protocol.lower() not in ("https", "http"):
        raise JobConfigurationError(
            f"{where}: protocol: must be https or http, not {config.protocol!r}"
        )
    try:
        checked_base_url(config.account_origin)
    except JobConfigurationError as exc:
        field, value = ("host", config.host) if config.host else ("account", config.account)
        reason = str(exc).removeprefix("base_url ")
        raise JobConfigurationError(
            f"{where}: {field}: {value!r} is not a usable address: {reason}"
        ) from exc


def check(config: AccountConfig) -> None:
    """Check that `config` can work, without any I/O but reading local files it names.

    Raises:
        JobConfigurationError: a missing account or user, an account address that cannot work
            (see `_check_address`), a key-pair login without a key, a token login without a
            token, or an interactive login over Direct Access.
    """
    where = config.where
    if not config.account:
        raise JobConfigurationError(f"{where}: account: missing (the Snowflake account name)")
    _check_address(config)
    if config.authenticator == "jwt" and not config.private_key_path:
        raise JobConfigurationError(
            f"{where}: private_key_path: missing (the key-pair authenticator needs a key)"
        )
    if config.authenticator in ("jwt", "programmatic_access_token") and not config.user:
        raise JobConfigurationError(f"{where}: user: missing (the {config.authenticator} login)")
    if config.authenticator in ("programmatic_access_token", "oauth") and not (
        config.token or config.token_file_path
    ):
        raise JobConfigurationError(
            f"{where}: token: missing (the {config.authenticator} authenticator needs token or "
            f"token_file_path)"
        )
    if config.direct_access and config.authenticator not in DIRECT_ACCESS_AUTHENTICATORS:
        raise JobConfigurationError(
            f"{where}: authenticator: {config.authenticator} needs a browser or a password, which "
            f"Direct Access cannot use; it accepts {', '.join(DIRECT_ACCESS_AUTHENTICATORS)}. "
            f"The SQL API accepts {config.authenticator}: set direct_access to false"
        )
