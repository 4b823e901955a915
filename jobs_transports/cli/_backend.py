"""Which backend `jobs` talks to: options, else the JOBS_* variables, else configuration files.

`connect_arguments` turns the command line into `connect_sync` keyword arguments; `describe`
shows the choice for `jobs config`; `refused_credential` says what a 401 or 403 refused. The
options `--profile`, `--connection` and `--config-file` choose in the configuration files, so with
them the variables that name a backend (JOBS_BASE_URL, JOBS_SNOWFLAKE) are not read.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from jobs_core import JobConfigurationError, is_secret_setting

from .._account_wiring import describe_connection
from ._arguments import ENVIRONMENT, json_object, program
from ._output import dumps

_FILE_OPTIONS = ("profile", "connection", "config_file")
_BACKEND_VARIABLES = ("base_url", "snowflake")


def _chosen(args: argparse.Namespace) -> dict[str, tuple[Any, str]]:
    """Return each connect argument the command line gives, with where it came from."""
    chosen = {
        name: (getattr(args, name), "--" + name.replace("_", "-"))
        for name in (*ENVIRONMENT, *_FILE_OPTIONS)
        if getattr(args, name) is not None
    }
    picks_file = any(name in chosen for name in _FILE_OPTIONS)
    for name, variable in ENVIRONMENT.items():
        if name in chosen or not os.environ.get(variable):
            continue
        if not (picks_file and name in _BACKEND_VARIABLES):
            chosen[name] = (os.environ[variable], variable)
    return chosen


def connect_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """Return the keyword arguments of `connect_sync` the command line asks for.

    Raises:
        JobConfigurationError: `--snowflake` (or JOBS_SNOWFLAKE) is not a JSON object.
    """
    arguments = {name: value for name, (value, _) in _chosen(args).items()}
    if "snowflake" in arguments:
        arguments["snowflake"] = _connector_arguments(args)
    return arguments


def _connector_arguments(args: argparse.Namespace) -> dict[str, Any]:
    text, source = _chosen(args)["snowflake"]
    try:
        return json_object(text, source)
    except ValueError as exc:
        raise JobConfigurationError(f"{exc} (the connector's keyword arguments)") from None


def describe(args: argparse.Namespace, *, as_json: bool) -> dict[str, Any]:
    """Return what the other commands would connect to, and where each setting came from: as
    ``{"value": ..., "from": ...}`` when `as_json`, else as the text "value (from)", as the lines
    of a file's description read.

    Secrets are shown only as "set". Raises as `connect_arguments` does, and as
    `describe_connection` does for a configuration file that cannot be used.
    """
    arguments = connect_arguments(args)
    if "base_url" not in arguments and "snowflake" not in arguments:
        return _described_files(args)
    described: dict[str, Any] = {}
    for name, (_, source) in _chosen(args).items():
        value = arguments[name]
        if name == "token":
            value = "set"
        elif name == "snowflake":
            value = {key: "set" if is_secret_setting(key) else v for key, v in value.items()}
        if as_json:
            described[name] = {"value": value, "from": source}
        else:
            described[name] = f"{value if isinstance(value, str) else dumps(value)} ({source})"
    described["backend"] = _backend_kind(arguments)
    return described


def _backend_kind(arguments: dict[str, Any]) -> str:
    http, sql = "base_url" in arguments, "snowflake" in arguments
    if http and sql:
        return "hybrid (Direct Access and the SQL API)"
    if http:
        return "Direct Access"
    return "SQL API"


def _described_files(args: argparse.Namespace) -> dict[str, Any]:
    text = describe_connection(
        profile=args.profile, connection=args.connection, config_file=args.config_file, app=args.app
    )
    # One "what  why" line per choice; a line of another shape is kept whole.
    lines = [line.split(maxsplit=1) for line in text.splitlines() if line.strip()]
    return {"file": text} if any(len(parts) < 2 for parts in lines) else dict(lines)


def in_source_terms(message: str, args: argparse.Namespace) -> str:
    """Return `message` naming each option the environment gave by its variable instead
    (JOBS_BASE_URL, not a --base-url the user never typed)."""
    for name, (_, source) in _chosen(args).items():
        option = "--" + name.replace("_", "-")
        if source != option:
            message = re.sub(rf"{re.escape(option)}\b(?!-)", source, message)
    return message


def refused_credential(args: argparse.Namespace, status: int) -> str:
    """Return the sentence a 401 or 403 adds: which credential the service refused (401) or
    whose user it accepted but will not let do this (403), and what to do about it."""
    chosen = _chosen(args)
    token = chosen.get("token")
    if status == 403:
        whose = "the configuration's" if token is None else f"the token from {token[1]}"
        return f"the service accepted {whose} credentials, but their user or role may not do this"
    if token is not None:
        return f"the token from {token[1]} was refused; set a valid one with --token or JOBS_TOKEN"
    if "base_url" in chosen:
        return (
            f"no token was sent to the Direct Access API of {chosen['base_url'][1]}; "
            "set one with --token or JOBS_TOKEN"
        )
    return (
        f"the credentials of the configuration were refused (see `{program()} config`); "
        "set a token with --token or JOBS_TOKEN, or choose another --profile or --connection"
    )
