"""What `jobs` prints on stdout: JSON documents and lines, or tables people read; and its notes
on stderr.

JSON shapes (stable): a single job is one object with the fields of `Job` (and those `--include`
asked for); a list is ``{"jobs": [...]}``; events are JSON lines ``{"event": {...}}`` ended by
``{"continuation_token": ...}``. Timestamps are ISO-8601 strings everywhere, durations integer
milliseconds. Tables show every field of a job but the long ones, cut to a readable width; JSON
keeps every value whole.

Names and messages come from the service and the command line, so nothing printed may steer the
terminal: characters it would act on (control characters, escapes, bidi overrides) are written
escaped, as ``\x1b`` in text and ``\u001b`` in JSON. Text the output's encoding cannot hold is
escaped the same way (JSON then is all ASCII), rather than failing half-way through a table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

import attrs

from jobs_core import Job, JobEvents

from ._arguments import program

_COLUMNS = (
    "id",
    "reasoner_type",
    "state",
    "name",
    "created_by",
    "created_on",
    "duration_s",
    "abort_reason",
)
_JOB_FIELDS = frozenset(field.name for field in attrs.fields(Job))
_INCLUDED = ("details", "events", "artifacts", "problems", "raw")
_CELL_WIDTH = 40
"""Longer cells (an abort reason, an included payload) are cut here; JSON has them whole."""


class OutputError(Exception):
    """The output cannot be written: stdout failed (a full disk, a lost terminal), or a value
    nests too deeply for JSON. The message says which (`jobs` exits 1)."""


def printable(text: str) -> str:
    """Return `text` with each character a terminal would act on but a line break (control
    and format characters: escapes, carriage returns, bidi overrides) as its escape: ``\x1b``."""
    if text.isprintable():
        return text
    return "\n".join(
        "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in line)
        for line in text.split("\n")
    )


def note(message: str) -> None:
    """Print `message` on stderr after the name the program was run as, as all its notes are.

    Notes are dropped when stderr is closed or its reader went away: the exit status still tells
    what happened, and must not become that of a failed note.
    """
    tell(printable(f"{program()}: {message}") + "\n")


def tell(text: str) -> None:
    """Write `text` to stderr as it is (escape sequences of a progress line included), now;
    nothing if stderr is closed or fails."""
    stderr = sys.stderr
    if stderr is None:
        return
    try:
        stderr.write(_encodable(stderr, text))
        stderr.flush()
    except OSError:
        silence(stderr)


def silence(stream: TextIO | None) -> None:
    """Send what is written to `stream` from now on nowhere: its reader went away or it failed,
    and later writes (and the flush at exit) must not raise again."""
    if stream is None:  # started closed: nothing to flush
        return
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):  # not a file (main() called in-process): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def job_document(job: Job) -> dict[str, Any]:
    """Return `job` as a dict for `dumps`: every field of `Job`, and the included ones asked for."""
    # Not recurse=True: attrs would walk every level of a payload, several frames per level, and
    # a deep one (which the service keeps) would exhaust the stack; `dumps` converts `events`.
    document = attrs.asdict(job, recurse=False)
    # A JobExpanded carries every optional field; only those asked for (not None) are shown.
    return {
        key: value for key, value in document.items() if key in _JOB_FIELDS or value is not None
    }


def dumps(document: Any, *, ascii_only: bool = False) -> str:
    """Return `document` as JSON text (timestamps anywhere in it as ISO-8601, other values as
    `_plain` says), with no character a terminal would act on (see `printable`); all ASCII if
    `ascii_only`.

    Raises:
        OutputError: `document` nests too deeply to be written.
    """
    try:
        text = json.dumps(document, ensure_ascii=ascii_only, default=_plain)
    except RecursionError:
        raise OutputError("cannot write the output: a value nests too deeply for JSON") from None
    if text.isprintable():
        return text
    # json.dumps escapes C0 controls only; DEL, C1 controls and format characters, which in JSON
    # text can only be inside strings, get the \u escapes that mean the same there.
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def _plain(value: Any) -> Any:
    """Return `value`, which JSON has no type for, as a value it has.

    Beyond timestamps and models, a database driver's values reach `raw` over the SQL API:
    Decimals are numbers, bytes hexadecimal, and anything else its text, as no value of the
    service's may stop the output.
    """
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if attrs.has(type(value)):
        return attrs.asdict(value, recurse=False)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def emit(text: str) -> None:
    """Print `text` (a line people read) on stdout, now, shown as `printable` says.

    Raises:
        BrokenPipeError: the reader went away (noticed here, as it is flushed at once).
        OutputError: stdout is closed or failed otherwise.
    """
    stdout = _stdout()
    _write(stdout, _encodable(stdout, printable(text)))


def emit_json(document: Any) -> None:
    """Print `document` as one line of JSON on stdout, now; raises as `emit` does."""
    stdout = _stdout()
    text = dumps(document)
    if _encodable(stdout, text) != text:
        text = dumps(document, ascii_only=True)
    _write(stdout, text)


def _stdout() -> TextIO:
    if sys.stdout is None:  # started with stdout closed (>&-)
        raise OutputError("cannot write the output: stdout is closed")
    return sys.stdout


def _encodable(stream: TextIO, text: str) -> str:
    """Return `text` with what the encoding of `stream` cannot hold escaped (\u2603)."""
    encoding = stream.encoding or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    return text


def _write(stream: TextIO, text: str) -> None:
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from exc


def print_jobs(jobs: Sequence[Job], *, as_json: bool, single: bool) -> None:
    """Print `jobs`: one object when `single`, else the list shape; or a table."""
    documents = [job_document(job) for job in jobs]
    if as_json:
        emit_json(documents[0] if single else {"jobs": documents})
        return
    extra = [key for key in _INCLUDED if any(key in d for d in documents)]
    for line in table([*_COLUMNS, *extra], [_cells(d) for d in documents]):
        emit(line)


def print_record(record: Mapping[str, Any], *, as_json: bool) -> None:
    """Print a result that is not a job (a created id, a cancellation, a configuration)."""
    if as_json:
        emit_json(dict(record))
        return
    width = max((len(key) for key in record), default=0)
    for key, value in record.items():
        shown = value if isinstance(value, str) else dumps(value)
        emit(f"{key.ljust(width)}  {shown}")


def _cells(document: Mapping[str, Any]) -> dict[str, str]:
    cells = {key: _cell(value) for key, value in document.items()}
    cells["created_on"] = _short_time(document.get("created_on"))
    duration = document.get("duration")
    cells["duration_s"] = "" if duration is None else f"{duration / 1000:.1f}"
    events = document.get("events")
    if isinstance(events, JobEvents):
        cells["events"] = f"{len(events.events)} event(s)"
    return cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else dumps(value)
    text = printable(" ".join(text.split()))
    text = text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
    # Escaped as it will be shown before the table measures it, so that the columns line up.
    return _encodable(_stdout(), text)


def _short_time(value: Any) -> str:
    """Return a time as ISO-8601 cut to whole seconds, in UTC: 2026-01-31T12:00:05Z."""
    if not isinstance(value, dt.datetime):
        return ""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> list[str]:
    """Return the lines of a table: a header, then one line per row, columns padded to fit."""
    cells = [list(columns)] + [[row.get(c, "") for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]


def print_events(events: Iterable[dict[str, Any]], *, as_json: bool) -> None:
    """Print each event as a JSON line as soon as it arrives.

    With `as_json` each is wrapped as ``{"event": ...}``, so the final token line is told apart.
    """
    for event in events:
        emit_json({"event": event} if as_json else event)
