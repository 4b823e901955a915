"""What `jobs` prints on stdout: JSON documents and lines, or tables people read; and its notes
on stderr.

JSON shapes (stable): a single job is one object with the fields of `Job` (and those `--include`
asked for); a list is ``{"jobs": [...]}``; events are JSON lines ``{"event": {...}}`` ended by
``{"continuation_token": ...}``. Timestamps are ISO-8601 strings everywhere, durations integer
milliseconds. Tables show every field of a job but the long ones, cut to a readable width; JSON
keeps every value whole.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from jobs_core import Job

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


def note(message: str) -> None:
    """Print `message` on stderr after the name the program was run as, as all its notes are."""
    print(f"{program()}: {message}", file=sys.stderr, flush=True)


def job_document(job: Job) -> dict[str, Any]:
    """Return `job` as a dict for `dumps`: every field of `Job`, and the included ones asked for."""
    document = attrs.asdict(job, recurse=True)
    # A JobExpanded carries every optional field; only those asked for (not None) are shown.
    return {
        key: value for key, value in document.items() if key in _JOB_FIELDS or value is not None
    }


def dumps(document: Any) -> str:
    """Return `document` as JSON text (timestamps anywhere in it as ISO-8601)."""
    return json.dumps(document, ensure_ascii=False, default=_iso)


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def emit(text: str) -> None:
    """Print one line on stdout, now (so a closed pipe is noticed where it happens)."""
    print(text, file=sys.stdout, flush=True)


def print_jobs(jobs: Sequence[Job], *, as_json: bool, single: bool) -> None:
    """Print `jobs`: one object when `single`, else the list shape; or a table."""
    documents = [job_document(job) for job in jobs]
    if as_json:
        emit(dumps(documents[0] if single else {"jobs": documents}))
        return
    extra = [key for key in _INCLUDED if any(key in d for d in documents)]
    for line in table([*_COLUMNS, *extra], [_cells(d) for d in documents]):
        emit(line)


def print_record(record: Mapping[str, Any], *, as_json: bool) -> None:
    """Print a result that is not a job (a created id, a cancellation, a configuration)."""
    if as_json:
        emit(dumps(dict(record)))
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
    if isinstance(events, dict):
        cells["events"] = f"{len(events.get('events') or [])} event(s)"
    return cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


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
        emit(dumps({"event": event} if as_json else event))
