"""The progress of a wait on stderr: a line redrawn in place on a terminal, plain lines in logs."""

from __future__ import annotations

import os
import sys
import time

from jobs_core import Job

from ._output import printable, tell

_CLEAR_LINE = "\r\x1b[2K"


class Progress:
    """Shows the state of the job `label` names after each poll (it is an `on_poll` callback).

    On a terminal one line is redrawn with the time waited; elsewhere (a log, a pipe, a terminal
    with TERM=dumb) a plain line is written only when the state changes. Leaving it as a context
    manager ends a drawn line, so whatever is printed next starts on a line of its own.
    """

    def __init__(self, label: str) -> None:
        self._label = printable(label)
        # A dumb terminal (TERM=dumb: Emacs shells, some CI consoles) shows escapes as text.
        dumb = os.environ.get("TERM") == "dumb"
        self._tty = sys.stderr is not None and sys.stderr.isatty() and not dumb
        self._started = time.monotonic()
        self._last: str | None = None
        self._drawn = False

    def __call__(self, job: Job | None) -> None:
        state = printable(job.state) if job is not None else "not visible yet"
        if self._tty:
            waited = time.monotonic() - self._started
            tell(f"{_CLEAR_LINE}{self._label}: {state} ({waited:.0f}s)")
            self._drawn = True
        elif state != self._last:
            tell(f"{self._label}: {state}\n")
        self._last = state

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """End the drawn line, if any, however the wait ended."""
        if self._drawn:
            tell("\n")
            self._drawn = False
