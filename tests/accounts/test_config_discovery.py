"""Configuration discovery: where files are found, profiles, connections, spellings, overrides."""

from __future__ import annotations

import errno
import logging
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jobs_core import JobConfigurationError
from jobs_transports import _account_config, connect_sync, describe_connection
from jobs_transports._account_config import AccountConfig, load_account_config
from tests.accounts.conftest import PASSPHRASE, PASSWORD, SECRET_TOKEN, KeyFiles


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def loaded(**kwargs: Any) -> AccountConfig:
    config = load_account_config(**kwargs)
    assert config is not None
    return config


YAML = """\
    default_connection: sf
    direct_access: true
    connections:
      sf:
        type: snowflake
        account: myorg-myaccount
        warehouse: MY_WH
        user: alice
        role: ANALYST
        rai_app_name: MY_APP
        authenticator: jwt
        private_key_path: {key}
        private_key_passphrase: {passphrase}
      other:
        account: other-account
        user: bob
        password: {password}
    profiles:
      prod:
        connections: {{sf: {{role: PROD_ROLE}}}}
"""


def test_nothing_configured_is_none(home: Path) -> None:
    assert load_account_config() is None
    assert "no configuration found" in describe_connection()
    with pytest.raises(
        JobConfigurationError, match=r"no configuration file \(RAI_CONFIG_FILE_PATH"
    ):
        connect_sync()


def test_raiconfig_yaml_in_rai_home(home: Path, keys: KeyFiles) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        YAML.format(key=keys.encrypted, passphrase=PASSPHRASE, password=PASSWORD),
    )
    config = loaded()
    assert (config.connection, config.account, config.user) == ("sf", "myorg-myaccount", "alice")
    assert (config.authenticator, config.role, config.app) == ("jwt", "ANALYST", "MY_APP")
    assert config.direct_access
    assert config.private_key_passphrase == PASSPHRASE
    assert config.account_origin == "https://myorg-myaccount.snowflakecomputing.com"


def test_yaml_profiles_overlay_by_argument_env_and_file(
    home: Path, keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        home / ".rai" / "raiconfig.yaml",
        YAML.format(key=keys.plain, passphrase="", password=PASSWORD),
    )
    assert loaded(profile="prod").role == "PROD_ROLE"
    monkeypatch.setenv("RAI_PROFILE", "prod")
    assert loaded().role == "PROD_ROLE"
    monkeypatch.delenv("RAI_PROFILE")
    monkeypatch.setenv("RAI_ACTIVE_PROFILE", "prod")
    assert loaded().profile == "prod"
    monkeypatch.delenv("RAI_ACTIVE_PROFILE")
    path.write_text("active_profile: prod\n" + path.read_text())
    assert loaded().role == "PROD_ROLE"


def test_yaml_connection_argument_and_the_only_connection(home: Path) -> None:
    write(
        home / ".rai" / "raiconfig.yml",
        """\
        connections:
          only: {account: acc, user: bob, password: x}
        """,
    )
    assert loaded().connection == "only"
    assert loaded(connection="only").authenticator == "password"


def test_yaml_in_a_parent_directory_beats_rai_home_and_toml(home: Path) -> None:
    write(home / ".rai" / "raiconfig.yaml", "connections: {a: {account: from-home}}\n")
    write(Path.cwd() / "raiconfig.toml", 'account = "from-toml"\n')
    write(Path.cwd().parent / "raiconfig.yaml", "connections: {a: {account: from-parent}}\n")
    assert loaded().account == "from-parent"


def test_rai_config_file_path_comes_first(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(Path.cwd() / "raiconfig.yaml", "connections: {a: {account: from-cwd}}\n")
    chosen = write(home / "elsewhere.yaml", "connections: {a: {account: from-env}}\n")
    monkeypatch.setenv("RAI_CONFIG_FILE_PATH", str(chosen))
    assert loaded().account == "from-env"
    explicit = write(home / "explicit.yaml", "connections: {a: {account: from-arg}}\n")
    assert loaded(config_file=explicit).account == "from-arg"


TOML = """\
    active_profile = "default"
    account = "top-level-account"
    warehouse = "MY_WH"

    [profile.default]
    platform = "snowflake"
    user = "ALICE"
    role = "ANALYST"
    rai_app_name = "RELATIONALAI"
    authenticator = "snowflake_jwt"
    private_key_file = "{key}"
    private_key_file_pwd = "{passphrase}"
    use_direct_access = true

    [profile.other]
    account = "other-account"
    user = "BOB"
    authenticator = "programmatic_access_token"
    token_file_path = "{token_file}"
"""


def test_raiconfig_toml_older_spellings_and_defaults(home: Path, keys: KeyFiles) -> None:
    token_file = write(home / "pat.txt", f"  {SECRET_TOKEN}\n")
    write(
        home / ".rai" / "raiconfig.toml",
        TOML.format(key=keys.encrypted, passphrase=PASSPHRASE, token_file=token_file),
    )
    config = loaded()
    assert (config.profile, config.account, config.user) == (
        "default",
        "top-level-account",
        "ALICE",
    )
    assert (config.authenticator, config.direct_access) == ("jwt", True)
    assert (config.private_key_path, config.warehouse) == (str(keys.encrypted), "MY_WH")
    other = loaded(profile="other")
    assert (other.account, other.authenticator) == ("other-account", "programmatic_access_token")


def test_snowflake_connections_toml(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        home / ".snowflake" / "connections.toml",
        """\
        default_connection_name = "work"

        [work]
        account = "myorg-myaccount"
        user = "ALICE"
        password = "x"

        [play]
        account = "play-account"
        user = "ALICE"
        authenticator = "externalbrowser"
        """,
    )
    config = loaded()
    assert (config.connection, config.account, config.app) == (
        "work",
        "myorg-myaccount",
        "RELATIONALAI",
    )
    assert not config.direct_access  # Snowflake's files have no Direct Access switch
    monkeypatch.setenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "play")
    assert loaded().authenticator == "externalbrowser"
    assert loaded(connection="work").connection == "work"
    monkeypatch.setenv("JOBS_APP", "OTHER_APP")
    assert loaded(connection="work").app == "OTHER_APP"
    monkeypatch.setenv("JOBS_DIRECT_ACCESS", "1")
    with pytest.raises(JobConfigurationError, match="SQL API accepts password"):
        loaded(connection="work")


def test_snowflake_home_and_config_toml(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = home / "sf"
    write(
        elsewhere / "config.toml",
        """\
        [connections.main]
        account = "from-config-toml"
        user = "U"
        password = "x"
        """,
    )
    monkeypatch.setenv("SNOWFLAKE_HOME", str(elsewhere))
    assert loaded().account == "from-config-toml"


def test_explicit_arguments_and_environment_override_the_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        "connections: {a: {account: acc, user: u, password: x, rai_app_name: FILE_APP}}\n",
    )
    monkeypatch.setenv("JOBS_APP", "ENV_APP")
    assert loaded().app == "ENV_APP"
    assert loaded(app="ARG_APP").app == "ARG_APP"
    assert "ARG_APP (app argument)" in loaded(app="ARG_APP").describe()


def test_connect_sync_with_no_arguments_uses_the_files(home: Path) -> None:
    write(
        home / ".snowflake" / "connections.toml",
        '[work]\naccount = "acc"\nuser = "ALICE"\npassword = "x"\n',
    )
    # Nothing is opened until the first call: this only builds the client.
    client = connect_sync()
    try:
        assert (client.config.sql, client.config.http, client.config.app) == (
            True,
            False,
            "RELATIONALAI",
        )
    finally:
        client.close()


def test_the_jobs_variables_work_in_the_library(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("JOBS_TOKEN", SECRET_TOKEN)
    client = connect_sync()
    try:
        assert (client.config.http, client.config.sql) == (True, False)
    finally:
        client.close()
    assert "JOBS_BASE_URL" in describe_connection()


def test_describe_says_what_and_why_without_secrets(home: Path, keys: KeyFiles) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        YAML.format(key=keys.encrypted, passphrase=PASSPHRASE, password=PASSWORD),
    )
    text = describe_connection(profile="prod")
    for expected in (
        str(home / ".rai" / "raiconfig.yaml"),
        "profile        prod (profile argument)",
        "connection     sf (default_connection)",
        "myorg-myaccount",
        "alice",
        "role           PROD_ROLE (the file)",  # the profile's overlay was not shown at all
        "jwt (written 'jwt')",
        "passphrase set",
        "MY_APP (the file)",
        "Direct Access",
        "found over SQL on first use",
    ):
        assert expected in text
    assert PASSPHRASE not in text
    assert PASSPHRASE not in repr(loaded())


@pytest.mark.parametrize(
    ("in_file", "variable", "said"),
    [
        (None, None, "SQL API (direct_access is not set)"),
        ("false", None, "SQL API (direct_access off in the file)"),  # said "is not set"
        ("true", None, "Direct Access (direct_access from the file)"),
        (None, "0", "SQL API (direct_access off in JOBS_DIRECT_ACCESS)"),  # said "is not set"
        ("true", "off", "SQL API (direct_access off in JOBS_DIRECT_ACCESS)"),
        ("false", "1", "Direct Access (direct_access from JOBS_DIRECT_ACCESS)"),  # "the file"
    ],
)
def test_describe_says_where_the_backend_choice_came_from(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_file: str | None,
    variable: str | None,
    said: str,
) -> None:
    switch = "" if in_file is None else f"direct_access: {in_file}\n"
    login = "authenticator: programmatic_access_token, token: pat"  # works over either API
    write(
        home / ".rai" / "raiconfig.yaml",
        f"{switch}connections:\n  sf: {{account: acc, user: u, {login}, rai_app_name: A}}\n",
    )
    if variable is None:
        monkeypatch.delenv("JOBS_DIRECT_ACCESS", raising=False)
    else:
        monkeypatch.setenv("JOBS_DIRECT_ACCESS", variable)
    assert f"\nbackend        {said}" in describe_connection()


def test_describe_names_the_token_the_client_will_use(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token from JOBS_TOKEN or token= wins over the file's token_file_path, but was described
    # as "token from token_file_path ..." (or, from the file's own token, "the token setting").
    write(home / ".rai" / "pat", "file-token")
    write(
        home / ".rai" / "raiconfig.yaml",
        "connections:\n  sf: {account: acc, user: u, rai_app_name: A,\n"
        "    authenticator: programmatic_access_token, token_file_path: pat}\n",
    )
    monkeypatch.delenv("JOBS_TOKEN", raising=False)
    assert f"token from token_file_path {home / '.rai' / 'pat'}" in describe_connection()
    monkeypatch.setenv("JOBS_TOKEN", "env-token")
    assert "token from JOBS_TOKEN" in describe_connection()
    assert "token from the token argument" in loaded(token="arg-token").describe()


@pytest.mark.parametrize("setup", ["nothing", "variables", "file", "file with a problem"])
def test_describe_is_one_what_and_why_per_line_whatever_was_found(
    home: Path, keys: KeyFiles, monkeypatch: pytest.MonkeyPatch, setup: str
) -> None:
    # `jobs config --json` makes a {what: why} object of these lines.
    if setup == "variables":
        monkeypatch.setenv("JOBS_BASE_URL", "http://127.0.0.1:9")
        monkeypatch.setenv("JOBS_SNOWFLAKE", '{"account": "acc"}')
    elif setup.startswith("file"):
        key = keys.plain if setup == "file" else home / "nokey"
        write(home / ".rai" / "raiconfig.yaml", YAML.format(key=key, passphrase="", password=""))
    lines = describe_connection().splitlines()
    assert lines
    for line in lines:
        assert re.fullmatch(r"[a-z]+ {2,}\S.*", line), line
    assert any(line.startswith("problem ") for line in lines) == (setup == "file with a problem")


def test_every_authenticator_goes_to_the_connector_over_sql(home: Path) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        """\
        connections:
          sf:
            account: acc
            user: alice
            authenticator: oauth_client_credentials
            oauth_client_id: the-client
            oauth_client_secret: the-client-secret
            login_timeout: 5
            engine: not-for-the-connector
        """,
    )
    config = loaded()
    assert config.connector_kwargs() == {
        "account": "acc",
        "user": "alice",
        "authenticator": "OAUTH_CLIENT_CREDENTIALS",
        "oauth_client_id": "the-client",
        "oauth_client_secret": "the-client-secret",
        "login_timeout": 5,
        **LOGOUT_SETTING,
    }
    assert "the-client-secret" not in repr(config) + config.describe()


LOGOUT_SETTING = (
    {"enable_server_session_keep_alive_auto_detection": False}
    if _account_config._connector_major_version() >= 5
    else {}
)
"""What the client adds to a connection's connector arguments: only connector 5 asks for it."""


@pytest.mark.parametrize(("written", "passed"), [("", False), ("true", True), ("false", False)])
def test_the_connector_s_logout_setting_is_the_file_s_or_false(
    home: Path, written: str, passed: bool
) -> None:
    path = home / "raiconfig.yaml"
    setting = "enable_server_session_keep_alive_auto_detection"
    line = f"    {setting}: {written}\n" if written else ""
    path.write_text(f"connections:\n  sf:\n    account: acc\n    user: a\n{line}")
    account = load_account_config(config_file=path)
    assert account is not None
    assert account.connector_kwargs().get(setting, False) is passed
    assert (setting in account.connector_kwargs()) is bool(written or LOGOUT_SETTING)


def test_a_connector_older_than_5_is_not_given_the_logout_setting(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connector 4 knows no such parameter and would warn about an unknown one."""
    monkeypatch.setattr(_account_config, "_connector_major_version", lambda: 4)
    path = home / "raiconfig.yaml"
    path.write_text("connections:\n  sf:\n    account: acc\n    user: a\n")
    account = load_account_config(config_file=path)
    assert account is not None
    assert "enable_server_session_keep_alive_auto_detection" not in account.connector_kwargs()


@pytest.mark.parametrize(
    ("default", "override", "field", "expected"),
    [
        ('private_key_path = "/top.p8"', 'private_key_file = "/profile.p8"', "private_key_path",
         "/profile.p8"),
        ('private_key_file = "/top.p8"', 'private_key_path = "/profile.p8"', "private_key_path",
         "/profile.p8"),
        ('private_key_passphrase = "top-pass"', 'private_key_file_pwd = "profile-pass"',
         "private_key_passphrase", "profile-pass"),
        ("direct_access = true", "use_direct_access = false", "direct_access", False),
        ('app = "TOP_APP"', 'rai_app_name = "PROFILE_APP"', "app", "PROFILE_APP"),
    ],
)  # fmt: skip
def test_a_profile_overrides_a_default_whatever_the_spellings(
    home: Path, default: str, override: str, field: str, expected: object
) -> None:
    write(
        home / ".rai" / "raiconfig.toml",
        f"""\
        account = "acc"
        user = "U"
        authenticator = "programmatic_access_token"
        token = "a-token"
        {default}

        [profile.default]
        {override}
        """,
    )
    assert getattr(loaded(), field) == expected


def test_a_yaml_connection_overrides_a_top_level_default_whatever_the_spellings(
    home: Path,
) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        """\
        private_key_path: /top.p8
        connections:
          sf: {account: acc, user: u, authenticator: jwt, private_key_file: /connection.p8}
        """,
    )
    assert loaded().private_key_path == "/connection.p8"


def test_snowflake_default_connection_name_in_config_toml(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Snowflake's connector reads default_connection_name from config.toml, beside
    # connections.toml (which then holds only the connections).
    write(
        home / ".snowflake" / "connections.toml",
        """\
        [one]
        account = "one-account"
        [two]
        account = "two-account"
        """,
    )
    write(home / ".snowflake" / "config.toml", 'default_connection_name = "two"\n')
    config = loaded()
    assert (config.connection, config.account) == ("two", "two-account")
    assert "default_connection_name in config.toml" in config.describe()
    monkeypatch.setenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "one")
    assert loaded().account == "one-account"


@pytest.mark.parametrize("shape", ["raiconfig.toml", "raiconfig.yaml"])
def test_relative_key_and_token_paths_are_relative_to_their_file(
    home: Path, keys: KeyFiles, shape: str
) -> None:
    project = Path.cwd().parent  # the file is found from a folder below it
    key = project / "keys" / "rsa_key.p8"
    key.parent.mkdir()
    key.write_bytes(keys.plain.read_bytes())
    write(project / "keys" / "pat", f"{SECRET_TOKEN}\n")
    settings = {
        "account": "acc",
        "user": "U",
        "authenticator": "jwt",
        "private_key_file": "keys/rsa_key.p8",
        "token_file_path": "./keys/pat",
    }
    if shape == "raiconfig.toml":
        text = "".join(f'{name} = "{value}"\n' for name, value in settings.items())
    else:
        text = "connections:\n  sf:\n" + "".join(f"    {k}: {v}\n" for k, v in settings.items())
    write(project / shape, text)
    config = loaded()
    assert config.private_key_path == str(key)
    assert config.token_file_path == str(project / "keys" / "pat")
    assert "problem" not in describe_connection()  # the key loads from the working directory
    write(project / shape, text.replace("keys/rsa_key.p8", "~/rsa_key.p8"))
    assert loaded().private_key_path == str(home / "rsa_key.p8")


def test_yaml_connections_and_profiles_named_by_numbers(home: Path) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        """\
        default_connection: 1
        active_profile: 2024
        connections:
          1: {account: one, password: x}
          2: {account: two, password: x}
        profiles:
          2024: {connections: {1: {role: R2024}}}
        """,
    )
    config = loaded()
    assert (config.connection, config.account, config.profile, config.role) == (
        "1",
        "one",
        "2024",
        "R2024",
    )
    assert loaded(connection="2").account == "two"


def test_a_folder_that_cannot_be_searched_is_skipped_with_a_warning(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    locked = home / ".rai"  # searched for raiconfig.yaml before any raiconfig.toml
    write(locked / "raiconfig.yaml", "connections: {a: {account: locked, password: x}}\n")
    write(Path.cwd() / "raiconfig.toml", 'account = "here"\npassword = "x"\n')
    stat = Path.stat

    def refused_in_locked(path: Path, *, follow_symlinks: bool = True) -> Any:
        if path.parent == locked:  # as for a user without search permission on ~/.rai
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return stat(path, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", refused_in_locked)
    with caplog.at_level(logging.WARNING, "jobs_transports"):
        assert loaded().account == "here"
    assert f"{locked / 'raiconfig.yaml'}: cannot be looked at (Permission denied)" in caplog.text
    with pytest.raises(JobConfigurationError, match="Permission denied"):
        loaded(config_file=locked / "raiconfig.yaml")


@pytest.mark.parametrize("variable", ["JOBS_DIRECT_ACCESS", "JOBS_ENDPOINT_CACHE"])
def test_switch_variables_are_switches(
    home: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    write(
        home / ".rai" / "raiconfig.yaml",
        "connections: {a: {account: acc, user: u, authenticator: oauth, token: t-1234}}\n",
    )
    setting = variable.removeprefix("JOBS_").lower()
    for written, value in (("1", True), (" Yes ", True), ("on", True), ("FALSE", False)):
        monkeypatch.setenv(variable, written)
        assert getattr(loaded(), setting) is value
    monkeypatch.setenv(variable, "ture")
    with pytest.raises(JobConfigurationError, match=f"{variable}: must be 1/0.*not 'ture'"):
        loaded()


def test_files_saved_with_a_byte_order_mark(home: Path) -> None:
    # Windows editors may start a UTF-8 file with U+FEFF.
    token_file = home / "pat.txt"
    token_file.write_text(f"\ufeff{SECRET_TOKEN}\r\n", encoding="utf-8")
    write(
        home / ".rai" / "raiconfig.toml",
        f'\ufeffaccount = "acc"\nuser = "U"\nauthenticator = "programmatic_access_token"\n'
        f'token_file_path = "{token_file}"\n',
    )
    assert loaded().account == "acc"
    with connect_sync() as client:  # over the SQL API: the connector is given the token read
        assert client is not None
    assert "problem" not in describe_connection()


def test_yaml_anchors_shared_and_recursive(home: Path) -> None:
    # 10**11 tables if each alias were a copy; one table holding itself.
    levels = ["level0: &l0 {a: 1}"] + [
        f"level{n}: &l{n} {{{', '.join(f'k{k}: *l{n - 1}' for k in range(10))}}}"
        for n in range(1, 12)
    ]
    write(
        home / ".rai" / "raiconfig.yaml",
        "\n".join(levels) + "\nconnections:\n  a: &c {account: acc, password: x, again: *c}\n",
    )
    assert loaded().account == "acc"
