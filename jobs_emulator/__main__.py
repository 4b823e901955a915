"""`jobs-emulator` / `python -m jobs_emulator`: serve the emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from types import FrameType

from jobs_emulator.auth import DEFAULT_USER
from jobs_emulator.serve import DEFAULT_APP, serve


def main(argv: list[str] | None = None) -> int:
    """Runs the emulator until Ctrl-C or SIGTERM; returns the exit status (0).

    Raises `SystemExit` for bad arguments (argparse's exit status 2).
    """
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    tokens = dict(args.token)
    try:
        with serve(
            host=args.host,
            port=args.port,
            clock=args.clock,
            tokens=tokens,
            default_user=args.default_user,
            app=args.app,
        ) as emu:
            print(f"jobs emulator listening on {emu.base_url}", flush=True)
            print(f"snowflake connect kwargs: {json.dumps(emu.snowflake)}", flush=True)
            print(f"app: {emu.app}   (Ctrl-C to stop)", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        # Leaving the `with` stopped the server; a second Ctrl-C while stopping lands here too.
        print("stopped", flush=True)
    return 0


def _stop(signum: int, frame: FrameType | None) -> None:
    """Makes SIGTERM stop the server as Ctrl-C does."""
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobs-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        type=_token,
        metavar="TOKEN=USER",
        help="accept this Direct Access token as this user (repeatable)",
    )
    parser.add_argument("--default-user", default=DEFAULT_USER, help="user when no tokens")
    parser.add_argument("--app", default=DEFAULT_APP, help="application name for SQL")
    parser.add_argument("--clock", choices=("real", "manual"), default="real")
    return parser


def _token(value: str) -> tuple[str, str]:
    token, separator, user = value.partition("=")
    if not separator or not token or not user:
        raise argparse.ArgumentTypeError(f"expected TOKEN=USER, got {value!r}")
    return token, user


if __name__ == "__main__":
    raise SystemExit(main())
