"""Every bad configuration is a JobConfigurationError from connect(), naming file, profile and
field, and never showing a secret."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jobs_core import JobConfigurationError, is_secret_setting
from jobs_transports import connect, connect_sync, describe_connection
from jobs_transports._account_config import _CREDENTIAL_FIELDS, load_account_config
from jobs_transports._connect import _secrets
from tests.accounts.conftest import PASSPHRASE, PASSWORD, SECRET_TOKEN, KeyFiles


def rai_yaml(home: Path, connection: str, extra: str = "direct_access: true\n") -> Path:
    path = home / ".rai" / "raiconfig.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = textwrap.indent(textwrap.dedent(connection), "    ")
    path.write_text(f"{extra}connections:\n  sf:\n{body}", encoding="utf-8")
    return path


def refused(keys: KeyFiles, **kwargs: Any) -> str:
    """Return the error connect_sync() and connect() give, after checking it shows no secret."""
    with pytest.raises(JobConfigurationError) as caught:
        connect_sync(**kwargs)
    with pytest.raises(JobConfigurationError) as caught_async:
        connect(**kwargs)
    assert str(caught.value) == str(caught_async.value)
    texts = []
    error: BaseException | None = caught.value
    while error is not None:  # the chained causes are printed in tracebacks too
        texts.append(f"{error} {error!r}")
        error = error.__cause__
    for secret in (PASSPHRASE, PASSWORD, SECRET_TOKEN, keys.private_pem.splitlines()[1]):
        assert secret not in " ".join(texts)
    return str(caught.value)


def test_missing_account(home: Path, keys: KeyFiles) -> None:
    path = rai_yaml(home, f"user: alice\nauthenticator: jwt\nprivate_key_path: {keys.plain}\n")
    message = refused(keys)
    assert str(path) in message
    assert "connection 'sf'" in message
    assert "account: missing" in message


def test_missing_account_names_the_profile(home: Path, keys: KeyFiles) -> None:
    rai_yaml(
        home,
        f"account: acc\nuser: alice\nauthenticator: jwt\nprivate_key_path: {keys.plain}\n",
        extra="direct_access: true\nprofiles:\n  broken:\n    connections: {sf: {account: ''}}\n",
    )
    message = refused(keys, profile="broken")
    assert "profile 'broken'" in message
    assert "account: missing" in message


def test_unknown_authenticator(home: Path, keys: KeyFiles) -> None:
    rai_yaml(home, "account: acc\nuser: alice\nauthenticator: kerberos\n")
    message = refused(keys)
    assert "authenticator: unknown authenticator 'kerberos'" in message
    assert "snowflake_jwt" in message


def test_unreadable_key(home: Path, keys: KeyFiles) -> None:
    rai_yaml(home, f"account: acc\nuser: a\nauthenticator: jwt\nprivate_key_path: {home}/nokey\n")
    assert "private_key_path: cannot read" in refused(keys)


@pytest.mark.parametrize("field", ["private_key_path", "private_key_file", "token_file_path"])
def test_a_key_pasted_where_its_path_belongs_is_not_shown(
    home: Path, keys: KeyFiles, field: str
) -> None:
    login = "jwt" if "key" in field else "programmatic_access_token"
    pem = json.dumps(keys.private_pem)
    rai_yaml(home, f"account: acc\nuser: a\nauthenticator: {login}\n{field}: {pem}\n")
    named = "private_key_path" if field == "private_key_file" else field  # the current name
    assert f"{named}: holds a key or token itself" in refused(keys)  # which shows no key line


def test_wrong_passphrase(home: Path, keys: KeyFiles) -> None:
    rai_yaml(
        home,
        f"account: acc\nuser: a\nauthenticator: jwt\nprivate_key_path: {keys.encrypted}\n"
        f"private_key_passphrase: {PASSWORD}\n",
    )
    assert "the passphrase does not decrypt it" in refused(keys)


def test_encrypted_key_without_passphrase(home: Path, keys: KeyFiles) -> None:
    rai_yaml(
        home, f"account: acc\nuser: a\nauthenticator: jwt\nprivate_key_path: {keys.encrypted}\n"
    )
    assert "set private_key_passphrase" in refused(keys)


def test_not_a_key(home: Path, keys: KeyFiles) -> None:
    junk = home / "junk.p8"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    rai_yaml(home, f"account: acc\nuser: a\nauthenticator: jwt\nprivate_key_path: {junk}\n")
    assert "not a private key" in refused(keys)


def test_yaml_syntax_error_gives_its_line_not_its_text(home: Path, keys: KeyFiles) -> None:
    path = home / ".rai" / "raiconfig.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(f"connections:\n  sf:\n    account: acc\n    password: [{PASSWORD}\n")
    message = refused(keys)
    assert f"{path}: YAML syntax error at line" in message


def test_toml_syntax_error_gives_its_line(home: Path, keys: KeyFiles) -> None:
    path = home / ".rai" / "raiconfig.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'account = "acc"\npassword = "{PASSWORD}\n')
    message = refused(keys)
    assert f"{path}: TOML syntax error" in message
    assert "line 2" in message


@pytest.mark.parametrize(
    "authenticator",
    ["externalbrowser", "username_password_mfa", "oauth_authorization_code", "snowflake", None],
)
def test_interactive_authenticators_are_refused_over_direct_access(
    home: Path, keys: KeyFiles, authenticator: str | None
) -> None:
    line = f"authenticator: {authenticator}\n" if authenticator else ""
    rai_yaml(home, f"account: acc\nuser: a\npassword: {PASSWORD}\n{line}")
    message = refused(keys)
    assert "jwt, programmatic_access_token, oauth" in message
    assert "The SQL API accepts" in message


def test_missing_token(home: Path, keys: KeyFiles) -> None:
    rai_yaml(home, "account: acc\nuser: a\nauthenticator: programmatic_access_token\n")
    assert "token: missing" in refused(keys)


@pytest.mark.parametrize(
    "bad", [f"{SECRET_TOKEN} two", f'{SECRET_TOKEN}"', f"{SECRET_TOKEN}\x00", ""]
)
def test_a_token_that_cannot_go_in_a_header(home: Path, keys: KeyFiles, bad: str) -> None:
    token_file = home / "pat.txt"
    token_file.write_text(f"\n{bad}\n")
    rai_yaml(
        home,
        f"account: acc\nuser: a\nauthenticator: programmatic_access_token\n"
        f"token_file_path: {token_file}\n",
    )
    message = refused(keys)
    assert f"token_file_path {token_file}" in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file or directory"),
        ("folder", "Is a directory"),
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"\xff\xfe token", "not UTF-8 text"),
    ],
)
@pytest.mark.parametrize("direct_access", [True, False])
def test_a_token_file_that_cannot_be_used_is_named_with_its_connection(
    home: Path, keys: KeyFiles, content: bytes | str | None, reason: str, direct_access: bool
) -> None:
    token_file = home / "pat.txt"
    if content == "folder":
        token_file.mkdir()
    elif isinstance(content, bytes):
        token_file.write_bytes(content)
    path = rai_yaml(
        home,
        f"account: acc\nuser: a\nauthenticator: programmatic_access_token\n"
        f"token_file_path: {token_file}\n",
        extra=f"direct_access: {str(direct_access).lower()}\n",
    )
    message = refused(keys)
    assert f"{path}, connection 'sf'" in message
    assert f"token_file_path {token_file}" in message
    assert reason in message


def test_a_token_callable_that_gives_what_cannot_go_in_a_header(home: Path) -> None:
    # The callable is asked on the first request: the token is checked before it is sent.
    with (
        connect_sync(
            base_url="http://127.0.0.1:9", token=lambda: f"{SECRET_TOKEN}\n\n x"
        ) as client,
        pytest.raises(JobConfigurationError) as caught,
    ):
        client.list()
    assert "token= callable cannot go in an HTTP header" in str(caught.value)
    assert SECRET_TOKEN not in str(caught.value)


def test_unknown_profile_and_connection(home: Path, keys: KeyFiles) -> None:
    rai_yaml(home, "account: acc\nuser: a\npassword: x\n", extra="")
    assert "no profile 'nope'" in refused(keys, profile="nope")
    assert "no connection 'nope'" in refused(keys, connection="nope")


def test_several_connections_and_no_default(home: Path, keys: KeyFiles) -> None:
    path = home / ".snowflake" / "connections.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[a]\naccount = "x"\n[b]\naccount = "y"\n')
    assert "2 connections ('a', 'b') and no default" in refused(keys)


def test_file_choices_do_not_mix_with_backend_arguments(home: Path, keys: KeyFiles) -> None:
    assert "cannot be combined" in refused(keys, base_url="http://127.0.0.1:9", profile="p")


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        ({"profile": 7}, "profile must be a string, not int"),
        ({"connection": b"work"}, "connection must be a string, not bytes"),
        ({"config_file": 7}, "config_file must be a path (str or os.PathLike), not int"),
    ],
)
def test_a_file_choice_of_another_type_is_refused_by_describe_connection_too(
    home: Path, choice: dict[str, Any], said: str
) -> None:
    # describe_connection(config_file=7) raised TypeError; profile=7 said that profile= needs a
    # configuration file. connect() is checked for every option in tests/drivers/test_connect.py.
    rai_yaml(home, "account: acc\nuser: a\npassword: x\n", extra="")
    with pytest.raises(JobConfigurationError, match=f"^{re.escape(said)}$"):
        describe_connection(**choice)


def test_a_config_file_that_does_not_exist(home: Path, keys: KeyFiles) -> None:
    assert "config_file argument" in refused(keys, config_file=home / "missing.yaml")


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ("port: 99999\n", "port: must be from 1 to 65535, not 99999"),
        ("port: 0\n", "port: must be from 1 to 65535, not 0"),
        ("port: -1\n", "port: must be from 1 to 65535, not -1"),
        ("protocol: ftp\n", "protocol: must be https or http, not 'ftp'"),
        ("host: 'a b/c'\n", "host: 'a b/c' is not a usable address"),
        ("host: h\u00e9.example\n", "is not a usable address"),
        ("host: 'h?x'\n", "is not a usable address"),
    ],
)
@pytest.mark.parametrize("direct_access", [True, False])
def test_an_account_address_that_cannot_work(
    home: Path, keys: KeyFiles, settings: str, problem: str, direct_access: bool
) -> None:
    rai_yaml(
        home,
        f"account: acc\nuser: a\nauthenticator: jwt\nprivate_key_path: {keys.plain}\n{settings}",
        extra=f"direct_access: {str(direct_access).lower()}\n",
    )
    assert problem in refused(keys)


def test_an_account_name_that_makes_no_address(home: Path, keys: KeyFiles) -> None:
    rai_yaml(home, f"account: my account\nuser: a\npassword: {PASSWORD}\n", extra="")
    assert "account: 'my account' is not a usable address" in refused(keys)


def test_a_mistyped_field(home: Path, keys: KeyFiles) -> None:
    rai_yaml(home, f"account: acc\nuser: a\npassword: [{PASSWORD}]\n", extra="")
    message = refused(keys)
    assert "password must be str, not a secret" in message


@pytest.mark.parametrize(
    ("login", "problem"),
    [
        ("authenticator: jwt\nprivate_key_path: {home}/nokey\n", "private_key_path: cannot read"),
        (
            "authenticator: programmatic_access_token\ntoken_file_path: {home}/nopat\n",
            "token_file_path",
        ),
    ],
)
def test_describe_shows_a_credential_that_cannot_be_used_as_one_line(
    home: Path, keys: KeyFiles, login: str, problem: str
) -> None:
    path = rai_yaml(home, "account: acc\nuser: alice\n" + login.format(home=home))
    text = describe_connection()
    lines = text.splitlines()
    assert lines[0].startswith(f"file           {path}")
    for expected in ("connection     sf", "alice", "Direct Access"):
        assert expected in text
    [line] = [line for line in lines if line.startswith("problem ")]
    assert problem in line
    assert line == lines[-1]


# Every name a file or connector arguments may give a credential under, older spellings included.
SECRET_NAMES = (
    "password",
    "passcode",
    "token",
    "private_key_passphrase",
    "private_key_file_pwd",
    "oauth_client_secret",
    "proxy_password",
    "private_key",
    "session_token",
    "master_token",
    "id_token",
    "mfa_token",
    "oauth_refresh_token",
)


@pytest.mark.parametrize("name", [*_CREDENTIAL_FIELDS, "private_key_file_pwd"])
def test_a_mistyped_secret_under_any_spelling_is_not_shown(
    home: Path, keys: KeyFiles, name: str
) -> None:
    rai_yaml(home, f"account: acc\nuser: a\n{name}: [98765.4321]\n", extra="")
    message = refused(keys)
    assert "98765" not in message
    assert f"{name} must be str, not a secret" in message


@pytest.mark.parametrize("name", ["password", "passcode", "private_key_file_pwd"])
@pytest.mark.parametrize("shape", ["yaml", "toml"])
def test_a_numeric_secret_is_read_as_text(home: Path, name: str, shape: str) -> None:
    path = home / f"raiconfig.{shape}"
    if shape == "yaml":
        path.write_text(
            f"connections:\n  sf:\n    account: acc\n    user: a\n    {name}: 987654321\n"
        )
    else:
        path.write_text(f'[profile.sf]\naccount = "acc"\nuser = "a"\n{name} = 987654321\n')
    account = load_account_config(config_file=path)
    assert account is not None
    assert account.secrets() == ("987654321",)


def test_every_secret_of_the_connector_arguments_is_masked() -> None:
    snowflake = {name: f"{name}-value" for name in SECRET_NAMES}
    found = _secrets(None, None, {**snowflake, "user": "alice", "private_key_path": "/k"}, None)
    assert sorted(found) == sorted(snowflake.values())
    assert all(is_secret_setting(name) for name in SECRET_NAMES)
    not_secret = ("user", "account", "token_file_path", "private_key_path", "authenticator")
    for name in (*not_secret, "client_request_mfa_token"):
        assert not is_secret_setting(name)
