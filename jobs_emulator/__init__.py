"""A local emulator of the jobs service: Direct Access HTTP, the SQL API, `/oauth/token`.

    with jobs_emulator.serve(clock="manual") as emu:
        client = connect_sync(base_url=emu.base_url)   # or snowflake=emu.snowflake, app=emu.app

The manual is docs/emulator.md: `serve()` and the `jobs-emulator` command, scripting jobs, time,
users and tokens, endpoint discovery and `move_direct_access()`, faults, limits.

Modules, each one job:

- `_serve`: `serve()` and `Emulator`, the server run by an asyncio loop in a background thread.
- `_server`: HTTP/1.1 (httptools parsing) over asyncio, routing, faults, the limits on clients.
- `_messages`: the `Request` and `Response` handlers see; JSON parsing of what callers send.
- `_direct_access`: the Direct Access API over the engine.
- `_snowflake_api`: the Snowflake wire API (logins, queries) the connector talks to.
- `_oauth`: `/oauth/token`, the JWT-bearer exchange.
- `_auth`: registered users, PATs, the tokens the emulator issues, who each caller is.
- `_key_pairs`: Snowflake's key-pair JWT: fingerprints, claims, signature checks.
- `_endpoint`: where the Direct Access API answers, where it moved from, lookups.
- `_admin`: `/_emulator/...`, the engine's set-up calls over HTTP.
- `_engine`: the store of jobs and transactions both APIs share.
- `_records`: one record, its state and events computed from the clock.
- `_scripts`: the `"emulate"` object: how a record behaves.
- `_events`: event pages behind opaque continuation tokens.
- `_clock`: real and manual clocks; `_timestamps`: emulator time as datetimes and ISO text.
- `_errors`: what the engine raises; `_validation`: checks on caller-supplied values.
- `_faults`: fault rules the server applies to matching requests.
- `_sql_syntax`, `_sql_expressions`, `_sql_statements`: parse, evaluate and run a statement.
- `_sql_routines`, `_sql_views`: the application's procedures, functions and views.
- `_snowflake_results`: answers and errors in Snowflake's JSON result format.
"""

from __future__ import annotations

from jobs_emulator._auth import DEFAULT_USER as DEFAULT_USER
from jobs_emulator._auth import Authenticator as Authenticator
from jobs_emulator._clock import Clock as Clock
from jobs_emulator._clock import ManualClock as ManualClock
from jobs_emulator._clock import RealClock as RealClock
from jobs_emulator._engine import Engine as Engine
from jobs_emulator._errors import EngineError as EngineError
from jobs_emulator._errors import InvalidRequest as InvalidRequest
from jobs_emulator._errors import NotFound as NotFound
from jobs_emulator._errors import NotReady as NotReady
from jobs_emulator._errors import PermissionDenied as PermissionDenied
from jobs_emulator._events import EventPage as EventPage
from jobs_emulator._faults import STALE_ENDPOINT_MESSAGE as STALE_ENDPOINT_MESSAGE
from jobs_emulator._faults import Faults as Faults
from jobs_emulator._faults import Rule as Rule
from jobs_emulator._records import JobSnapshot as JobSnapshot
from jobs_emulator._scripts import Script as Script
from jobs_emulator._serve import Emulator as Emulator
from jobs_emulator._serve import serve as serve

__all__ = [
    "DEFAULT_USER",
    "STALE_ENDPOINT_MESSAGE",
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
