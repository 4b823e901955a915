"""What each `jobs` command does with a client, and the exit status it ends with."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from jobs_core import (
    Job,
    JobIncludeDict,
    JobInvalidRequestError,
    JobNotFoundError,
    JobTimeoutError,
    parse_reasoner_type,
)

from .._client_sync import JobsClientSync
from ._arguments import json_object, program
from ._exits import Exit, for_final_state
from ._output import emit, emit_json, note, print_events, print_jobs, print_record
from ._progress import Progress


def still_running(kind: str, job_id: str, resume: str | None = None) -> str:
    """Return the lines saying that a job keeps running, and how to follow or cancel it.

    `resume` is the continuation token where a reader of the job's events stopped.
    """
    name = program()
    follow = f"{name} wait {kind} {job_id}"
    if resume:
        follow = f"{name} events {kind} {job_id} --follow --continuation-token {resume}"
    return (
        f"{kind} job {job_id} is still running.\n"
        f"  follow it: {follow}\n  cancel it: {name} cancel {kind} {job_id}"
    )


class Interrupted(Exception):
    """Ctrl-C or SIGTERM (`by`) stopped a command; `advice` says what became of the job it
    waited for."""

    def __init__(self, advice: str, by: KeyboardInterrupt) -> None:
        super().__init__(advice)
        self.advice = advice
        self.by = by


Command = Callable[[JobsClientSync, argparse.Namespace], Exit]


def _include(text: str) -> JobIncludeDict | None:
    keys = [key.strip() for key in text.split(",") if key.strip()]
    # The core checks the keys (and names a wrong one); here they are only collected.
    return cast(JobIncludeDict, dict.fromkeys(keys, True)) if keys else None


def _as_json(args: argparse.Namespace) -> bool:
    return bool(args.output == "json")


def read_payload(text: str) -> dict[str, Any]:
    """Return the payload PAYLOAD gives: JSON text, ``@FILE``, or ``-`` for stdin.

    A file and stdin are read as bytes and must be UTF-8 (a byte-order mark is allowed): text
    that is not would otherwise reach the service with its bad bytes escaped.

    Raises:
        JobInvalidRequestError: the file or stdin cannot be read, is not UTF-8, or does not hold
            a JSON object.
    """
    source = "PAYLOAD"
    if text == "-":
        source, text = _read_text(None)
    elif text.startswith("@"):
        source, text = _read_text(Path(text[1:]))
    try:
        return json_object(text, source)
    except ValueError as exc:
        raise JobInvalidRequestError(str(exc)) from None


def _read_text(path: Path | None) -> tuple[str, str]:
    """Return what names the file at `path` (None: stdin) in messages, and its text."""
    source = "PAYLOAD from stdin" if path is None else f"PAYLOAD file {path}"
    if path is None and sys.stdin is None:
        raise JobInvalidRequestError("PAYLOAD - reads stdin, which is closed")
    if path is None and sys.stdin.isatty():  # else it would wait silently, as if hung
        note("reading PAYLOAD from the terminal: type the JSON, then Ctrl-D")
    try:
        data = sys.stdin.buffer.read() if path is None else path.read_bytes()
    except OSError as exc:
        raise JobInvalidRequestError(f"cannot read {source}: {exc.strerror}") from None
    try:
        return source, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JobInvalidRequestError(
            f"{source} is not UTF-8 text (byte {exc.start + 1} is not)"
        ) from None


def _list(client: JobsClientSync, args: argparse.Namespace) -> Exit:
    jobs = client.list(
        args.reasoner_type, job_id=args.job_id, state=args.state, name=args.name,
        created_by=args.created_by, only_active=args.only_active, all_users=args.all_users,
        limit=args.limit, offset=args.offset, include=_include(args.include),
    )  # fmt: skip
    print_jobs(jobs, as_json=_as_json(args), single=False)
    return Exit.OK


def _get(client: JobsClientSync, args: argparse.Namespace) -> Exit:
    job = client.get(args.reasoner_type, args.job_id, include=_include(args.include))
    if job is None:
        raise JobNotFoundError(f"{_kind(args)} job {args.job_id} not found")
    print_jobs([job], as_json=_as_json(args), single=True)
    return Exit.OK


def _kind(args: argparse.Namespace) -> str:
    return parse_reasoner_type(args.reasoner_type).label


def _waited(
    client: JobsClientSync, args: argparse.Namespace, job_id: str, grace_s: float | None
) -> Exit:
    """Wait for the job and return the exit status its end (or the timeout) gives.

    `grace_s` is how long the job may stay invisible; None when it is known to exist (just
    created). Whichever of the grace and `--timeout` ends first ends the wait, and a job that was
    never seen by then is not found.

    Raises:
        JobNotFoundError: the job was never seen within the grace or the timeout.
        Interrupted: Ctrl-C or SIGTERM stopped the wait.
    """
    kind = _kind(args)
    progress = Progress(f"{kind} {job_id}")
    started = time.monotonic()
    seen = False

    def on_poll(job: Job | None) -> None:
        nonlocal seen
        progress(job)
        seen = seen or job is not None
        if job is None and grace_s is not None and time.monotonic() - started > grace_s:
            raise JobNotFoundError(
                f"{kind} job {job_id} not found (not visible after {grace_s:g}s)"
            )

    try:
        with progress:
            job = client.wait(
                args.reasoner_type, job_id, timeout_s=args.timeout, poll_interval_s=args.poll,
                include=_include(args.include), on_poll=on_poll,
            )  # fmt: skip
    except KeyboardInterrupt as exc:
        raise Interrupted(still_running(kind, job_id), by=exc) from None
    except JobTimeoutError as exc:
        if not seen and grace_s is not None:
            raise JobNotFoundError(
                f"{kind} job {job_id} not found (not seen before --timeout {args.timeout:g}s "
                "ended the wait)"
            ) from exc
        note(f"{exc}; {still_running(kind, job_id)}")
        return Exit.TIMED_OUT
    print_jobs([job], as_json=_as_json(args), single=True)
    status = for_final_state(job.state)
    if status is not Exit.OK:
        reason = f": {job.abort_reason}" if job.abort_reason else ""
        note(f"{kind} job {job_id} ended {job.state}{reason}")
    return status


def _wait(client: JobsClientSync, args: argparse.Namespace) -> Exit:
    return _waited(client, args, args.job_id, args.grace)


def _events(client: JobsClientSync, args: argparse.Namespace) -> Exit:
    events = client.iter_events(
        args.reasoner_type, args.job_id, args.continuation_token,
        stream_name=args.stream_name, follow=args.follow, poll_interval_s=args.poll,
    )  # fmt: skip
    try:
        print_events(events, as_json=_as_json(args))
    except KeyboardInterrupt as exc:
        advice = still_running(_kind(args), args.job_id, events.continuation_token)
        raise Interrupted(advice, by=exc) from None
    token = events.continuation_token
    if _as_json(args):
        emit_json({"continuation_token": token})
    elif token:
        note(f"continuation token {token} (resume with --continuation-token)")
    return Exit.OK


def _cancel(client: JobsClientSync, args: argparse.Namespace) -> Exit:
    client.cancel(args.reasoner_type, args.job_id, all_users=args.all_users)
    kind = _kind(args)
    record = {"id": args.job_id, "reasoner_type": kind, "cancel_requested": True}
    if _as_json(args):
        print_record(record, as_json=True)
    else:
        emit(f"cancel requested for {kind} job {args.job_id}")
    return Exit.OK


def _create(client: JobsClientSync, args: argparse.Namespace) -> Exit:
    payload = read_payload(args.payload)
    try:
        op = client.create(
            args.reasoner_type, args.reasoner_name, payload, timeout_mins=args.timeout_mins
        )
    except KeyboardInterrupt as exc:
        # The service may have created the job before the request was interrupted.
        kind, name = _kind(args), shlex.quote(args.reasoner_name)
        advice = (
            f"the {kind} job may have been created; look for it with: "
            f"{program()} list {kind} --name {name} --active"
        )
        raise Interrupted(advice, by=exc) from None
    kind = op.metadata["reasoner_type"]
    if args.wait:
        # Before waiting, so the id is known even if the wait is interrupted or fails.
        note(f"created {kind} job {op.id}")
        # The job exists: however long it takes to become visible, it is not "not found".
        return _waited(client, args, op.id, grace_s=None)
    if _as_json(args):
        print_record({"id": op.id, "reasoner_type": kind, "name": args.reasoner_name}, as_json=True)
    else:
        emit(op.id)
    return Exit.OK


COMMANDS: dict[str, Command] = {
    "list": _list,
    "get": _get,
    "wait": _wait,
    "events": _events,
    "cancel": _cancel,
    "create": _create,
}
