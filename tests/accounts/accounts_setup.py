"""Configuration files that point at an emulator, in each of the three shapes users keep."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import jobs_emulator

PAT = "pat-patty-5ecret"
APP = "RELATIONALAI"

# The connector parameters a login to the emulator needs (plain HTTP on loopback, fast).
_CONNECTOR = {
    "login_timeout": 10,
    "client_session_keep_alive": False,
    "enable_server_session_keep_alive_auto_detection": False,
}


def _login(emu: jobs_emulator.Emulator, user: str) -> dict[str, object]:
    return {
        "account": emu.snowflake["account"],
        "user": user,
        "host": emu.host,
        "port": emu.port,
        "protocol": "http",
        "no_proxy": emu.host,
        **_CONNECTOR,
    }


def _yaml_value(value: object) -> str:
    return json.dumps(value)  # JSON scalars are YAML scalars


def write_yaml(
    home: Path, emu: jobs_emulator.Emulator, credentials: Mapping[str, object], user: str
) -> Path:
    """Write ~/.rai/raiconfig.yaml for a Direct Access connection as `user`."""
    settings = {**_login(emu, user), "rai_app_name": APP, **credentials}
    lines = ["default_connection: emu", "direct_access: true", "connections:", "  emu:"]
    lines += [f"    {key}: {_yaml_value(value)}" for key, value in settings.items()]
    path = home / ".rai" / "raiconfig.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_toml(
    home: Path, emu: jobs_emulator.Emulator, credentials: Mapping[str, object], user: str
) -> Path:
    """Write ~/.rai/raiconfig.toml (older spellings) for a Direct Access connection as `user`."""
    renamed = {
        "private_key_path": "private_key_file",
        "private_key_passphrase": "private_key_file_pwd",
    }
    settings = {
        **_login(emu, user),
        "rai_app_name": APP,
        "use_direct_access": True,
        **{renamed.get(key, key): value for key, value in credentials.items()},
    }
    if settings.get("authenticator") == "jwt":
        settings["authenticator"] = "snowflake_jwt"
    lines = ['active_profile = "emu"', "", "[profile.emu]", 'platform = "snowflake"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path = home / ".rai" / "raiconfig.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_connections(
    home: Path, emu: jobs_emulator.Emulator, credentials: Mapping[str, object], user: str
) -> Path:
    """Write ~/.snowflake/connections.toml for `user` (no application, no Direct Access switch)."""
    renamed = {
        "private_key_path": "private_key_file",
        "private_key_passphrase": "private_key_file_pwd",
    }
    settings = {
        **_login(emu, user),
        **{renamed.get(key, key): value for key, value in credentials.items()},
    }
    if settings.get("authenticator") == "jwt":
        settings["authenticator"] = "SNOWFLAKE_JWT"
    lines = ['default_connection_name = "emu"', "", "[emu]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path = home / ".snowflake" / "connections.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WRITERS = {"yaml": write_yaml, "toml": write_toml, "connections": write_connections}
