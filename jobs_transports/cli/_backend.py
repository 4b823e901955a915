"""Which backend `jobs` talks to: options, then environment, then the configuration files.

`connect_arguments` turns the command line into `connect_sync` keyword arguments; `describe`
shows the choice for `jobs config`; `refused_credential` names what a 401 refused.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from jobs_core import JobConfigurationError

from ._arguments import ENVIRONMENT

_SECRET_KEYS = ("password", "passcode", "token", "private_key", "secret")
"""Connector arguments whose values `jobs config` never shows (substrings of the key)."""
_ACCOUNT_OPTIONS = ("profile", "connection", "config_file")


def _value(args: argparse.Namespace, name: str) -> tuple[Any, str | None]:
    """Return the value of option `name` and where it came from (the option, or its variable)."""
    given = getattr(args, name)
    if given is not None:
        return given, "--" + name.replace("_", "-")
    variable = ENVIRONMENT.get(name)
    if variable is not None and os.environ.get(variable):
        return os.environ[variable], variable
    return None, None


def connect_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """Return the keyword arguments of `connect_sync` the command line asks for.

    Raises:
        JobConfigurationError: `--snowflake` (or JOBS_SNOWFLAKE) is not a JSON object.
    """
    chosen: dict[str, Any] = {}
    for name in ("base_url", "token", "app", *_ACCOUNT_OPTIONS):
        value, _ = _value(args, name)
        if value is not None:
            chosen[name] = value
    snowflake, source = _value(args, "snowflake")
    if snowflake is not None:
        try:
            chosen["snowflake"] = json.loads(snowflake)
        except ValueError as exc:
            raise JobConfigurationError(f"{source} is not JSON: {exc}") from None
        if not isinstance(chosen["snowflake"], dict):
            raise JobConfigurationError(f"{source} must be a JSON object of connector arguments")
    return chosen


def describe(args: argparse.Namespace) -> dict[str, Any]:
    """Return what the command line and environment choose, and where each value came from.

    Secrets are shown only as "set". Raises as `connect_arguments` does.
    """
    chosen = connect_arguments(args)
    described: dict[str, Any] = {}
    for name, value in chosen.items():
        _, source = _value(args, name)
        if name == "token":
            value = "set"
        elif name == "snowflake":
            value = {key: "set" if _is_secret(key) else v for key, v in value.items()}
        described[name] = {"value": value, "from": source}
    described["backend"] = _backend_kind(chosen)
    return described


def _is_secret(key: str) -> bool:
    return any(part in key.lower() for part in _SECRET_KEYS)


def _backend_kind(chosen: dict[str, Any]) -> str:
    http, sql = "base_url" in chosen, "snowflake" in chosen
    if http and sql:
        return "hybrid (Direct Access and the SQL API)"
    if http:
        return "Direct Access"
    if sql:
        return "SQL API"
    return "from the configuration files"


def refused_credential(args: argparse.Namespace) -> str:
    """Return the sentence a 401 adds: which credential was refused, and how to set another."""
    _, source = _value(args, "token")
    if source is not None:
        return f"the token from {source} was refused; set a valid one with --token or JOBS_TOKEN"
    return (
        "the credentials of the configuration were refused (see `jobs config`); "
        "set a token with --token or JOBS_TOKEN, or choose another --profile or --connection"
    )
