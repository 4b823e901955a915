"""A local emulator of the jobs service: Direct Access HTTP and the SQL API, on one loopback port.

Start it from a test or a program::

    with jobs_emulator.serve(clock="manual") as emu:
        emu.base_url        # Direct Access API, e.g. "http://127.0.0.1:50123"
        emu.snowflake       # kwargs for snowflake.connector.connect (paramstyle="qmark")
        emu.app             # application name for the SQL statements ("JOBS_APP")
        emu.engine          # the store: clock, scripts, not-ready marks
        emu.faults          # fault injection for reliability tests

or from a shell: `jobs-emulator [--port N] [--token TOKEN=USER ...]` (or `python -m jobs_emulator`).
Exiting the context stops the server, open connections included, and joins its thread.

Clock
    `serve(clock="manual")` gives a `ManualClock` starting at 2026-01-01T00:00:00Z; nothing moves
    until `emu.engine.advance(seconds)`. States are computed from the clock when read, so every
    record moves at once and the same readings give the same answers. The default is real time.

Records and states
    Jobs (`SOLVER`, `ML`) and transactions (`LOGIC`) get UUID ids. Timeline of a record created at
    t0 with scripted duration d: `CREATED`, `PENDING` at t0+min(0.1, d/4), `RUNNING` at
    t0+min(0.2, d/2), the scripted outcome at t0+d (`COMPLETED`, `FAILED` or `ABORTED` with the
    scripted `abort_reason`). `timeout_mins` that falls before t0+d ends the record `ABORTED` at
    the timeout with "job exceeded its timeout of N minutes". A cancel while active ends it
    `CANCELED` at that moment (no abort reason); cancelling a terminal record changes nothing.
    `duration` (ms) and `finished_at` appear once terminal.

Scripts (`jobs_emulator.scripts`)
    An `"emulate"` object sets `duration_s` (default 0.5), `outcome`, `abort_reason`, `events`
    (exactly that many progress events, default 3, event i of n at t0+d*i/n), `artifacts`,
    `problems` and `not_ready`. Layers, later ones overriding key by key:
    1. the default per reasoner/engine name: `emu.engine.set_script(name, {...})`;
    2. jobs: the payload's `"emulate"`; transactions: `headers["emulate"]` (the `headers_json`
       parameter over SQL, the body's `headers` over HTTP), then the HTTP body's own `"emulate"`.
    Artifacts and problems appear once the scripted outcome is reached (a cancelled or timed-out
    transaction has none). `abort_detached` is recorded but never acts: the emulator does not
    watch waiting clients; script `"outcome": "ABORTED", "abort_reason": "client disconnected"`.

Not ready
    `emu.engine.set_not_ready(name)` (or a script with `not_ready: true`): create answers 404
    `{"message": "engine is not ready to accept jobs"}` and makes no record; `get` and `events` on
    that name's records answer the same 404 until `set_not_ready(name, False)`.

Events
    Only the `progress` stream exists (another name: 400). Events look like
    `{"type": "progress", "index": i, "message": "step i of n", "progress": i/n, "timestamp": ISO}`;
    there is no terminal event. A page holds at most `page_size` events (`serve(page_size=...)`,
    default 10) as `{"events": [...], "continuation_token": T}`. Tokens are opaque; `""`, absent
    and `"0"` mean the start. A reader caught up with a running record gets `[]` and a token; once
    the record is terminal and the reader has everything, the token is `null`. A token from
    another record, or garbage: 400.

Users
    HTTP callers are identified by `Authorization: Snowflake Token="T"` (or `Bearer T`) through
    `serve(tokens={"T": "alice"})`; a missing or unknown token then answers 401. Without tokens
    everyone is `default_user` ("emulator_user"). SQL callers are their login name. Lists and
    gets show everyone's records. Events, artifacts, problems and cancel of a transaction are for
    its owner only (another user's: 403 with a message), except `CANCEL_TRANSACTION` over SQL
    (`all_users`). Jobs can be read and cancelled by anyone.

Direct Access HTTP API (`jobs_emulator.direct_access`)
    The endpoints of PROTOCOL.md. create job → `{"id"}`; create transaction →
    `{"transaction": {"id", "state"}}`; get → `{"job": {...}}` / `{"transaction": {...}}`; list →
    `{"jobs": [...]}` / `{"transactions": [...]}` newest first; artifacts → `{"results": [...]}`;
    problems → `{"problems": [...]}`; cancel / cancel_async → `{"id", "state"}`. Timestamps are
    ISO 8601 UTC with `Z`. Errors are `{"message": ...}`: 400 invalid request (bad JSON, missing
    field, unknown job type in the path), 401, 403, 404 unknown id or path, 404 not ready, 405
    wrong method.

Admin API (`jobs_emulator.admin`)
    `/_emulator/clock`, `/_emulator/clock/advance`, `/_emulator/scripts`, `/_emulator/not_ready`,
    `/_emulator/reset`: the engine's set-up calls over HTTP, for an emulator in another process.

Faults (`jobs_emulator.faults`)
    `emu.faults.delay/drop/respond/throttle/stale_endpoint/truncate/malformed(...)`, each
    targeted by `method=`, `path=` (prefix), `times=`, `skip=`, returning a rule whose `hits`
    count what fired; `emu.faults.close_idle_after(n)` closes keep-alive connections after n
    responses; `emu.faults.clear()`. Faults apply to every path, SQL wire API included.
"""

from __future__ import annotations

from jobs_emulator.auth import DEFAULT_USER as DEFAULT_USER
from jobs_emulator.auth import Authenticator as Authenticator
from jobs_emulator.clock import Clock as Clock
from jobs_emulator.clock import ManualClock as ManualClock
from jobs_emulator.clock import RealClock as RealClock
from jobs_emulator.engine import Engine as Engine
from jobs_emulator.errors import EngineError as EngineError
from jobs_emulator.errors import InvalidRequest as InvalidRequest
from jobs_emulator.errors import NotFound as NotFound
from jobs_emulator.errors import NotReady as NotReady
from jobs_emulator.errors import PermissionDenied as PermissionDenied
from jobs_emulator.events import EventPage as EventPage
from jobs_emulator.faults import Faults as Faults
from jobs_emulator.faults import Rule as Rule
from jobs_emulator.records import JobSnapshot as JobSnapshot
from jobs_emulator.scripts import Script as Script
from jobs_emulator.serve import Emulator as Emulator
from jobs_emulator.serve import serve as serve

__all__ = [
    "DEFAULT_USER",
    "Authenticator",
    "Clock",
    "Emulator",
    "Engine",
    "EngineError",
    "EventPage",
    "Faults",
    "InvalidRequest",
    "JobSnapshot",
    "ManualClock",
    "NotFound",
    "NotReady",
    "PermissionDenied",
    "RealClock",
    "Rule",
    "Script",
    "serve",
]
