"""`jobs` from start to exit status: parse, connect, run the command, report errors on stderr."""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from types import FrameType

from jobs_core import JobConfigurationError, JobError, JobServerError

from .._connect import connect_sync
from ._arguments import parse
from ._backend import connect_arguments, describe, in_source_terms, refused_credential
from ._commands import COMMANDS, Interrupted
from ._exits import Exit, Terminated, for_error, for_interrupt
from ._output import OutputError, note, print_record, silence

_OPTION_NAMES = {
    "reasoner_type": "REASONER_TYPE",
    "reasoner_name": "REASONER_NAME",
    "job_id": "JOB_ID",
    "include": "--include",
    "timeout_s": "--timeout",
    "poll_interval_s": "--poll",
    "timeout_mins": "--timeout-mins",
    "continuation_token": "--continuation-token",
    "stream_name": "--stream-name",
    "created_by": "--created-by",
    "base_url": "--base-url",
    "config_file": "--config-file",
}
"""The library names an argument by its keyword; on the command line it is this option. Only
names no server message would use as plain words (a 'connection' or a 'state' in a server's
message must stay as it is); the options whose other checks matter are checked by the parser."""
_KEYWORD = re.compile(r"\b(" + "|".join(sorted(_OPTION_NAMES, key=len, reverse=True)) + r")\b(=?)")


_CALLS = {"cancel(all_users=True)": "cancel --all-users"}
"""The library names a call with its arguments; on the command line it is this command."""


_LIST_NAMES = {**_OPTION_NAMES, "job_id": "--job-id"}
"""`list` takes a job id as the filter --job-id, where the other commands take JOB_ID."""


def in_cli_terms(message: str, command: str | None = None) -> str:
    """Return `message`, which `command` raised, with the library's keyword names replaced by
    the CLI's option names."""
    for call, cli_command in _CALLS.items():
        message = message.replace(call, cli_command)
    names = _LIST_NAMES if command == "list" else _OPTION_NAMES
    return _KEYWORD.sub(lambda m: names[m.group(1)] + (" " if m.group(2) else ""), message)


_CONFIGURATION_PHRASES = {
    # The CLI has no sql_connection: what a file choice cannot be combined with there is these.
    "base_url=, sql_connection= or snowflake=": "--base-url or --snowflake",
    "no backend arguments": "no --base-url or --snowflake",
}
_CONFIGURATION_NAMES = {
    **_OPTION_NAMES,
    "profile": "--profile",
    "connection": "--connection",
    "app": "--app",
    "token": "--token",
    "snowflake": "--snowflake",
}
"""Choosing a configuration, the library names its arguments as ``profile=`` or ``profile
argument``; in those two forms (never as plain words) these are the CLI's options."""
_NAMED_ARGUMENT = re.compile(
    r"\b("
    + "|".join(sorted(_CONFIGURATION_NAMES, key=len, reverse=True))
    + r")(=(?:\.\.\.)?|\s+argument\b)"  # "(app=...)" is "(--app)", not "(--app...)"
)


def in_configuration_terms(text: str) -> str:
    """Return `text` (a configuration error, or `jobs config`'s reasons) naming options, not
    the keyword arguments the library names."""
    for phrase, options in _CONFIGURATION_PHRASES.items():
        text = text.replace(phrase, options)
    return _NAMED_ARGUMENT.sub(lambda m: _CONFIGURATION_NAMES[m.group(1)], text)


@contextlib.contextmanager
def _library_output(verbosity: int) -> Iterator[None]:
    """Keep warnings and log records (the Snowflake connector's) off stderr unless asked for."""
    root = logging.getLogger()
    # Without -v, a handler that drops everything keeps logging's last-resort handler quiet.
    handler: logging.Handler = logging.NullHandler()
    level = root.level
    if verbosity > 0:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s"))
        root.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    root.addHandler(handler)
    try:
        with warnings.catch_warnings():
            if verbosity == 0:
                warnings.simplefilter("ignore")
            yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Make SIGTERM stop the command as Ctrl-C does, so it says what became of the job it waited
    for and exits 143, rather than dying silently; a second SIGTERM kills it outright."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals (main() called from another)
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _run(args: argparse.Namespace) -> Exit:
    if args.command == "config":
        as_json = args.output == "json"
        described = {
            what: in_configuration_terms(why) if isinstance(why, str) else why
            for what, why in describe(args, as_json=as_json).items()
        }
        print_record(described, as_json=as_json)
        # A key or token that cannot be used is described too, as the line "problem".
        return Exit.USAGE if "problem" in described else Exit.OK
    with connect_sync(**connect_arguments(args)) as client:
        return COMMANDS[args.command](client, args)


def _error(args: argparse.Namespace, exc: JobError) -> Exit:
    message = str(exc)
    if isinstance(exc, JobConfigurationError):
        message = in_configuration_terms(message)
    message = in_source_terms(in_cli_terms(message, args.command), args)
    status = for_error(exc, args.command)
    if isinstance(exc, JobServerError) and exc.status in (401, 403):
        message = f"{message}\n  {refused_credential(args, exc.status)}"
    note(message)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `jobs` command line; return its exit status (`jobs --help` lists them)."""
    try:
        args = parse(argv)
    except SystemExit as exc:  # --help, --version, or bad usage (argparse printed why)
        return exc.code if isinstance(exc.code, int) else Exit.USAGE
    try:
        with _sigterm_as_interrupt(), _library_output(args.verbose):
            return _run(args)
    except JobError as exc:
        return _error(args, exc)
    except Interrupted as exc:
        status, what = for_interrupt(exc.by)
        note(f"{what}; {exc.advice}")
        return status
    except KeyboardInterrupt as exc:
        status, what = for_interrupt(exc)
        note(what)
        return status
    except BrokenPipeError:
        silence(sys.stdout)
        return Exit.BROKEN_PIPE
    except OutputError as exc:
        silence(sys.stdout)
        note(str(exc))
        return Exit.ERROR
