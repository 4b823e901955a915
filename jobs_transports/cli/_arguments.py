"""The `jobs` command line: its commands, options, checks of option values, and `--help`."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from jobs_core import ReasonerType, __version__

from ._exits import help_table

ENVIRONMENT = {
    "base_url": "JOBS_BASE_URL",
    "token": "JOBS_TOKEN",
    "snowflake": "JOBS_SNOWFLAKE",
    "app": "JOBS_APP",
}
"""The option each environment variable stands in for, when the option is not given."""

PROGRAMS = ("jobs-client", "jobs")
"""The names the command is installed under. Shells run a `jobs` builtin of their own in place of
a program of that name, so at a prompt it is `jobs-client`."""


def program() -> str:
    """Return the name the command was run as, which its usage, messages and the commands it
    suggests use: one of `PROGRAMS`, or `jobs` when `main()` is called some other way."""
    name = Path(sys.argv[0]).stem
    return name if name in PROGRAMS else "jobs"


_GLOBAL_DEFAULTS: dict[str, object] = {
    "output": "table",
    "verbose": 0,
    "base_url": None,
    "token": None,
    "snowflake": None,
    "app": None,
    "profile": None,
    "connection": None,
    "config_file": None,
}

_TYPES = ", ".join(kind.value for kind in ReasonerType)
_EPILOG = """\
reasoner types: {types} (also spelled SOLVER for Prescriptive, ML for Predictive).
units: --timeout, --poll and --grace in seconds; --timeout-mins in minutes; JSON durations in
milliseconds, table durations in seconds; timestamps ISO-8601.
payload: JSON text, @FILE to read it from a file, or - to read it from stdin.
output: a table, or with --json one JSON object per job ({{"jobs": [...]}} for list) and JSON
lines for events; errors and progress go to stderr.

environment (read when the option is not given):
  JOBS_BASE_URL   --base-url: the Direct Access base URL
  JOBS_TOKEN      --token: the Direct Access token
  JOBS_SNOWFLAKE  --snowflake: the Snowflake connector's keyword arguments, as JSON
  JOBS_APP        --app: the application name for the SQL API
  Without any of these, the configuration is looked up in the files the RelationalAI and Snowflake
  tools use (see `{program} config`), which these choose or override:
  RAI_CONFIG_FILE_PATH  the file (else raiconfig.yaml, .yml or .toml here, above or in ~/.rai,
                        then Snowflake's connections.toml and config.toml)
  RAI_PROFILE           --profile (also RAI_ACTIVE_PROFILE)
  SNOWFLAKE_HOME        the folder of Snowflake's files (~/.snowflake)
  SNOWFLAKE_DEFAULT_CONNECTION_NAME
                        --connection, in Snowflake's files
  JOBS_TOKEN, JOBS_APP  the file's token and application
  JOBS_DIRECT_ACCESS    1/0: Direct Access, or the SQL API only
  JOBS_ENDPOINT_CACHE   1/0: keep the Direct Access endpoint in ~/.rai/endpoints.json
  RAI_ENDPOINT_FILE     that file

exit status:
{exits}
"""


def _seconds_option(check: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value: float | None = float(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not check(value):
            raise argparse.ArgumentTypeError(f"must be a number of seconds {rule}, not {text!r}")
        return value

    return parse


def _count_option(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value: int | None = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, not {text!r}")
        return value

    return parse


_seconds = _seconds_option(lambda v: v > 0, "> 0")
_poll = _seconds_option(lambda v: 0 < v < 20, "above 0 and below 20")
_grace = _seconds_option(lambda v: v >= 0, ">= 0")
_positive = _count_option(1)
_non_negative = _count_option(0)


def json_object(text: str, source: str) -> dict[str, Any]:
    """Return the JSON object `text` holds; `source` names where it came from in messages.

    Raises:
        ValueError: `text` is not JSON (or nests too deeply to be read), or not a JSON object;
            the message names `source` and never quotes the text (it may hold a password).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"{source} is not JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{source} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{source} must be a JSON object, not {type(value).__name__}")
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose messages never quote the value given to an option with ``=``
    that it could not match to one option (``--t=TOKEN`` when --t begins --token and --timeout).
    """

    def error(self, message: str) -> NoReturn:
        super().error(_AMBIGUOUS_VALUE.sub(r"\1", message))


_AMBIGUOUS_VALUE = re.compile(r"^(ambiguous option: [^=\s]+)=.*?(?= could match )", re.DOTALL)


def _global_options() -> _Parser:
    # Added to the top parser and to every command, so they may come before or after it; the
    # defaults are filled in after parsing (a command's parser would otherwise reset them).
    parent = _Parser(add_help=False)
    output = parent.add_argument_group("output (before or after the command)")
    output.add_argument("--output", choices=("table", "json"), default=argparse.SUPPRESS)
    output.add_argument(
        "--json", dest="output", action="store_const", const="json", default=argparse.SUPPRESS,
        help="same as --output json",
    )  # fmt: skip
    output.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS,
        help="show warnings and the library's log on stderr (-vv: debug)",
    )  # fmt: skip
    backend = parent.add_argument_group("backend (before or after the command)")
    backend.add_argument("--base-url", default=argparse.SUPPRESS, help="Direct Access base URL")
    backend.add_argument("--token", default=argparse.SUPPRESS, help="Direct Access token")
    backend.add_argument(
        "--snowflake", default=argparse.SUPPRESS, metavar="JSON",
        help="SQL API: the Snowflake connector's keyword arguments as JSON",
    )  # fmt: skip
    backend.add_argument("--app", default=argparse.SUPPRESS, help="SQL API: the application")
    backend.add_argument("--profile", default=argparse.SUPPRESS, help="profile in the file")
    backend.add_argument("--connection", default=argparse.SUPPRESS, help="connection name")
    backend.add_argument("--config-file", default=argparse.SUPPRESS, help="configuration file")
    return parent


def _job_command(
    commands: argparse._SubParsersAction[_Parser], name: str, text: str, parent: _Parser
) -> _Parser:
    command = commands.add_parser(
        name, help=text, description=text[0].upper() + text[1:] + ".", parents=[parent]
    )
    command.add_argument("reasoner_type", metavar="REASONER_TYPE", help=_TYPES)
    command.add_argument("job_id", metavar="JOB_ID")
    return command


def _wait_options(command: argparse.ArgumentParser, *, grace: bool) -> None:
    command.add_argument(
        "--timeout",
        type=_seconds,
        default=900.0,
        metavar="SECONDS",
        help="give up after this long (default 900)",
    )
    command.add_argument(
        "--poll",
        type=_poll,
        default=0.5,
        metavar="SECONDS",
        help="first interval between polls (default 0.5)",
    )
    if grace:
        command.add_argument(
            "--grace", type=_grace, default=10.0, metavar="SECONDS",
            help="how long a job may stay invisible before it is not found (default 10); a "
            "shorter --timeout ends the wait sooner, and an unseen job is then not found too",
        )  # fmt: skip


def _include_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--include", default="", metavar="KEYS",
        help="also fetch: details, events, raw; artifacts and problems for Logic (comma-separated)",
    )  # fmt: skip


def parser() -> argparse.ArgumentParser:
    """Return the parser of the `jobs` command line."""
    parent = _global_options()
    name = program()
    top = _Parser(
        prog=name,
        description="Start, follow and cancel Logic, Prescriptive and Predictive jobs.",
        epilog=_EPILOG.format(types=_TYPES, program=name, exits=help_table()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[parent],
    )
    top.add_argument("--version", action="version", version=f"{name} {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser(
        "list", help="list jobs, newest first", description="List jobs, newest first.",
        parents=[parent],
    )  # fmt: skip
    listing.add_argument("reasoner_type", nargs="?", metavar="REASONER_TYPE", help=_TYPES)
    for option in ("--state", "--name", "--created-by", "--job-id"):
        listing.add_argument(option)
    listing.add_argument("--active", action="store_true", dest="only_active")
    listing.add_argument("--all-users", action="store_true")
    listing.add_argument("--limit", type=_positive, metavar="N", help="at most this many jobs")
    listing.add_argument(
        "--offset", type=_non_negative, default=0, metavar="N", help="skip this many first"
    )
    _include_option(listing)

    get = _job_command(commands, "get", "show one job", parent)
    _include_option(get)

    wait = _job_command(
        commands, "wait", "wait for a job to end; exit 0 only if it ends COMPLETED", parent
    )
    _wait_options(wait, grace=True)
    _include_option(wait)

    events = _job_command(commands, "events", "print a job's events as JSON lines", parent)
    events.add_argument("--continuation-token", default="", help="resume where a reader stopped")
    events.add_argument(
        "--stream-name", default="progress", help="the event stream (default progress)"
    )
    events.add_argument("--follow", action="store_true", help="keep reading until the job ends")
    events.add_argument(
        "--poll",
        type=_poll,
        default=0.5,
        metavar="SECONDS",
        help="first interval between reads of a quiet stream with --follow",
    )

    cancel = _job_command(commands, "cancel", "ask the service to cancel a job", parent)
    cancel.add_argument("--all-users", action="store_true", help="Logic: another user's too")

    create = commands.add_parser(
        "create", help="start a job", description="Start a job and print its id.", parents=[parent]
    )
    create.add_argument("reasoner_type", metavar="REASONER_TYPE", help=_TYPES)
    create.add_argument("reasoner_name", metavar="REASONER_NAME")
    create.add_argument("payload", metavar="PAYLOAD", help="JSON text, @FILE, or - for stdin")
    create.add_argument(
        "--timeout-mins", type=_positive, metavar="MINUTES", help="the job's own time limit"
    )
    create.add_argument("--wait", action="store_true", help="wait for it; exit 0 only if COMPLETED")
    _wait_options(create, grace=False)
    _include_option(create)

    commands.add_parser(
        "config", help="show the configuration chosen (no secrets)",
        description="Show which configuration the other commands would use, and why.",
        parents=[parent],
    )  # fmt: skip
    return top


def _long_options(top: argparse.ArgumentParser) -> set[str]:
    """Return every --option of `top` and of its commands."""
    options: set[str] = set()
    parsers = [top]
    while parsers:
        for action in parsers.pop()._actions:
            options.update(option for option in action.option_strings if option.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
    return options


def _check_options(top: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Stop at a --option no command has (nor begins with, as an abbreviation), naming it alone.

    argparse would quote what follows it too: after a misspelt --token, the token.
    """
    known = _long_options(top)
    for argument in argv:
        if argument == "--":  # what follows is positional, whatever it looks like
            return
        name = argument.partition("=")[0]
        if name.startswith("--") and not any(option.startswith(name) for option in known):
            top.error(f"unrecognized option {name} (its value, if any, is not shown)")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Return the parsed command line, global options defaulted.

    Raises:
        SystemExit: bad usage (status 2, message on stderr, never quoting the value of an
            unknown option), `--help` or `--version` (status 0).
    """
    top = parser()
    _check_options(top, sys.argv[1:] if argv is None else argv)
    args = top.parse_args(argv)
    for name, default in _GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args
