"""`jobs-emulator` / `python -m jobs_emulator`: serve the emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from jobs_emulator._auth import DEFAULT_TOKEN_TTL_S, DEFAULT_USER
from jobs_emulator._serve import DEFAULT_APP, serve


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until Ctrl-C or SIGTERM; return the exit status: 0 once stopped, 1 when
    it cannot listen (the port is in use, the host is not an address of this machine), after one
    line on stderr.

    Raise `SystemExit` for bad arguments (argparse's exit status 2, with the usage), an
    unreadable public key file included.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        users = _users(args.user, args.public_key, args.pat)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with serve(
            host=args.host,
            port=args.port,
            clock=args.clock,
            tokens=dict(args.token),
            default_user=args.default_user,
            app=args.app,
            users=users or None,
            token_ttl_s=args.token_ttl,
        ) as emu:
            print(f"jobs emulator listening on {emu.base_url}", flush=True)
            print(f"snowflake connect kwargs: {json.dumps(emu.snowflake)}", flush=True)
            print(f"app: {emu.app}   (Ctrl-C to stop)", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        # Leaving the `with` stopped the server; a second Ctrl-C while stopping lands here too.
        print("stopped", flush=True)
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:
        print(f"{parser.prog}: error: {exc.strerror or exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _users(
    names: list[str], keys: list[tuple[str, str]], pats: list[tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """Return `serve(users=...)` from the flags: every user named by any of them.

    Raise `OSError` when a public key file cannot be read, `ValueError` for a user given twice.
    """
    users: dict[str, dict[str, str]] = {name: {} for name in names}
    for flag, field, pairs in (("--public-key", "public_key", keys), ("--pat", "pat", pats)):
        for name, value in pairs:
            entry = users.setdefault(name, {})
            if field in entry:
                raise ValueError(f"{flag} is given twice for user {name}")
            entry[field] = _read(value) if field == "public_key" else value
    return users


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise OSError(f"cannot read the public key file {path}: {exc.__class__.__name__}") from None


def _stop(signum: int, frame: FrameType | None) -> None:
    """Make SIGTERM stop the server as Ctrl-C does."""
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobs-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        type=_pair("TOKEN=USER"),
        metavar="TOKEN=USER",
        help="accept this Direct Access token as this user (repeatable)",
    )
    parser.add_argument("--default-user", default=DEFAULT_USER, help="user when no tokens")
    parser.add_argument("--app", default=DEFAULT_APP, help="application name for SQL")
    parser.add_argument(
        "--clock",
        choices=("real", "manual"),
        default="real",
        help="real time, or a clock at 2026-01-01T00:00:00Z that moves only when asked to "
        "(POST /_emulator/clock/advance)",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME",
        help="register a user (repeatable); then SQL logins and Direct Access need proof",
    )
    parser.add_argument(
        "--public-key",
        action="append",
        default=[],
        type=_pair("USER=PATH"),
        metavar="USER=PATH",
        help="register the user's RSA public key from a PEM file (key-pair logins, /oauth/token)",
    )
    parser.add_argument(
        "--pat",
        action="append",
        default=[],
        type=_pair("USER=TOKEN"),
        metavar="USER=TOKEN",
        help="register a programmatic access token for the user",
    )
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=DEFAULT_TOKEN_TTL_S,
        metavar="SECONDS",
        help=f"lifetime of tokens issued by /oauth/token (default {DEFAULT_TOKEN_TTL_S:g})",
    )
    return parser


def _pair(shape: str) -> Callable[[str], tuple[str, str]]:
    """Return an argparse type that splits `A=B` (neither side empty) at the `=` after the user
    name: the first one for `USER=...`, the last one for `TOKEN=USER`, since a token (base64
    text) may end with `=` and a user name holds none."""

    def split(value: str) -> tuple[str, str]:
        cut = value.rpartition if shape.endswith("=USER") else value.partition
        left, separator, right = cut("=")
        if not separator or not left or not right:
            # The value may hold a secret (a token): name the shape, not the value.
            raise argparse.ArgumentTypeError(f"expected {shape}")
        return left, right

    return split


if __name__ == "__main__":
    raise SystemExit(main())
