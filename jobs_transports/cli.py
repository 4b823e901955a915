"""`jobs`: the sync client on the command line, with table or JSON output.

    jobs --base-url URL list Logic --active --limit 5
    jobs get Predictive JOB_ID --include details,events --json
    jobs events Predictive JOB_ID --follow
    jobs wait Prescriptive JOB_ID --timeout 600
    jobs cancel Logic TXN_ID --all-users
    jobs create Predictive forecaster '{"horizon_days": 7}' --wait

Backends come from options or the environment: `--base-url` (JOBS_BASE_URL) and `--token`
(JOBS_TOKEN) for Direct Access; `--snowflake` (JOBS_SNOWFLAKE: the JSON of the connector's
keyword arguments) with `--app` (JOBS_APP) for the SQL API; both for the hybrid routing.
Errors print one line on stderr and exit with status 1 (2 for a bad request or configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

import attrs

from jobs_core import (
    Job,
    JobConfigurationError,
    JobError,
    JobIncludeDict,
    JobInvalidRequestError,
)

from ._client_sync import JobsClientSync
from ._connect import connect_sync

COLUMNS = ("id", "reasoner_type", "state", "name", "created_by", "created_on", "duration")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("JOBS_BASE_URL"))
    parser.add_argument("--token", default=os.environ.get("JOBS_TOKEN"))
    parser.add_argument("--snowflake", default=os.environ.get("JOBS_SNOWFLAKE"), help="JSON")
    parser.add_argument("--app", default=os.environ.get("JOBS_APP"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list jobs, newest first")
    listing.add_argument("reasoner_type", nargs="?")
    for option in ("--state", "--name", "--created-by", "--job-id"):
        listing.add_argument(option)
    listing.add_argument("--active", action="store_true", dest="only_active")
    listing.add_argument("--all-users", action="store_true")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--offset", type=int, default=0)

    for name, text in (("get", "show one job"), ("wait", "wait for a job to end")):
        command = commands.add_parser(name, help=text)
        command.add_argument("reasoner_type")
        command.add_argument("job_id")
        command.add_argument("--include", default="", help="e.g. details,events,raw")
    wait = commands.choices["wait"]
    wait.add_argument("--timeout", type=float, default=900)
    wait.add_argument("--poll", type=float, default=0.5)

    events = commands.add_parser("events", help="print a job's events")
    events.add_argument("reasoner_type")
    events.add_argument("job_id")
    events.add_argument("--token", dest="continuation_token", default="")
    events.add_argument("--follow", action="store_true", help="until the job ends")

    cancel = commands.add_parser("cancel", help="cancel a job")
    cancel.add_argument("reasoner_type")
    cancel.add_argument("job_id")
    cancel.add_argument("--all-users", action="store_true")

    create = commands.add_parser("create", help="start a job")
    create.add_argument("reasoner_type")
    create.add_argument("reasoner_name")
    create.add_argument("payload", help="the payload as JSON")
    create.add_argument("--timeout-mins", type=int)
    create.add_argument("--wait", action="store_true", help="wait for the job to end")
    return parser


def _client(args: argparse.Namespace) -> JobsClientSync:
    snowflake = None
    if args.snowflake:
        try:
            snowflake = json.loads(args.snowflake)
        except ValueError as exc:
            raise JobConfigurationError(f"--snowflake is not JSON: {exc}") from None
    return connect_sync(base_url=args.base_url, token=args.token, snowflake=snowflake, app=args.app)


def _include(text: str) -> JobIncludeDict | None:
    keys = [key for key in text.split(",") if key.strip()]
    # The core checks the keys (and names a wrong one); here they are only collected.
    return cast(JobIncludeDict, dict.fromkeys(keys, True)) if keys else None


def _run(client: JobsClientSync, args: argparse.Namespace, out: Callable[[Any], None]) -> None:
    if args.command == "list":
        out(client.list(
            args.reasoner_type, job_id=args.job_id, state=args.state, name=args.name,
            created_by=args.created_by, only_active=args.only_active, all_users=args.all_users,
            limit=args.limit, offset=args.offset,
        ))  # fmt: skip
    elif args.command == "get":
        job = client.get(args.reasoner_type, args.job_id, include=_include(args.include))
        if job is None:
            raise JobError(f"{args.reasoner_type} {args.job_id} not found")
        out([job])
    elif args.command == "wait":

        def progress(job: Job | None) -> None:
            print(f"\r{job.state if job else 'not visible yet':<12}", end="", file=sys.stderr)

        out([client.wait(
            args.reasoner_type, args.job_id, timeout_s=args.timeout, poll_interval_s=args.poll,
            include=_include(args.include), on_poll=progress,
        )])  # fmt: skip
        print(file=sys.stderr)
    elif args.command == "events":
        for event in client.iter_events(
            args.reasoner_type, args.job_id, args.continuation_token, follow=args.follow
        ):
            print(json.dumps(event, default=str), flush=True)
    elif args.command == "cancel":
        client.cancel(args.reasoner_type, args.job_id, all_users=args.all_users)
    elif args.command == "create":
        try:
            payload = json.loads(args.payload)
        except ValueError as exc:
            raise JobInvalidRequestError(f"the payload is not JSON: {exc}") from None
        op = client.create(
            args.reasoner_type, args.reasoner_name, payload, timeout_mins=args.timeout_mins
        )
        job = op.wait() if args.wait else client.get(args.reasoner_type, op.id)
        if job is None:  # created, but not visible yet
            print(op.id)
        else:
            out([job])


def _printer(as_json: bool) -> Callable[[list[Job]], None]:
    def print_jobs(jobs: list[Job]) -> None:
        rows = [attrs.asdict(job, recurse=True) for job in jobs]
        if as_json:
            print(json.dumps(rows, default=str, indent=2))
            return
        cells = [COLUMNS] + [
            tuple("" if r[c] is None else str(r[c]) for c in COLUMNS) for r in rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
        for row in cells:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())

    return print_jobs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        with _client(args) as client:
            _run(client, args, _printer(args.json))
    except (JobInvalidRequestError, JobConfigurationError) as exc:
        print(f"jobs: {exc}", file=sys.stderr)
        return 2
    except JobError as exc:
        print(f"jobs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
