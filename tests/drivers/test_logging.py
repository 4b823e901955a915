"""Logging on every driver: each request at DEBUG (``jobs_transports``), the core's decisions
(``jobs_core``), and never the token, whatever logger writes at DEBUG during the session."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys

import pytest
import trio

import jobs_emulator
from jobs_core import JobServerError, ReasonerType, RetryPolicy
from jobs_core import _http_dialect as http
from jobs_transports import connect, connect_sync
from tests.drivers.conftest import TOKENS, client_options, run_scenario
from tests.drivers.test_conformance import FAST, payload, unique
from tests.drivers.uniform import Uniform

TOKEN = next(token for token, user in TOKENS.items() if user == "alice")


def session(session_real_emu: jobs_emulator.Emulator, driver: str) -> str:
    """Run a session that retries, refreshes its endpoint, polls, pages events and uses SQL;
    return the id of the job it made."""
    made: list[str] = []

    async def scenario(client: Uniform) -> None:
        op = await client.create("Predictive", unique("log"), payload("Predictive", events=2))
        made.append(op.id)
        path = http.build_get(ReasonerType.PREDICTIVE, op.id).target
        stale = session_real_emu.faults.stale_endpoint(method="GET", path=path, times=1)
        busy = session_real_emu.faults.throttle(
            503, retry_after=None, method="GET", path=path, times=1
        )
        assert await client.get("Predictive", op.id) is not None
        assert (stale.hits, busy.hits) == (1, 1)
        await op.wait(**FAST)
        assert [e async for e in op.events()]
        await client.list("Predictive", limit=2)
        logic = await client.create("Logic", unique("log"), payload("Logic", duration_s=30))
        await client.cancel("Logic", logic.id, all_users=True)  # through SQL

    options = client_options(session_real_emu, "hybrid")
    options["base_url"] = lambda: (
        session_real_emu.base_url
    )  # an endpoint provider, asked again when stale
    run_scenario(driver, options, scenario)
    return made[0]


@pytest.mark.parametrize("driver", ["sync", "asyncio", "trio"])
def test_requests_and_decisions_are_logged_and_the_token_never_is(
    session_real_emu: jobs_emulator.Emulator, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        job_id = session(session_real_emu, driver)
    # The Snowflake connector's DEBUG records are checked too (every driver sends HTTP through
    # an h11 pool of its own, which logs nothing).
    assert "snowflake" in {r.name.split(".")[0] for r in caplog.records}
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        assert TOKEN not in text, f"{record.name} logged the token"

    ours = [
        (r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("jobs")
    ]
    path = http.build_get(ReasonerType.PREDICTIVE, job_id).target
    requests = [
        m for name, level, m in ours if name == "jobs_transports" and level == logging.DEBUG
    ]
    assert any(re.fullmatch(rf"GET {path} -> HTTP 404 in \d+\.\d{{3}}s", m) for m in requests)
    assert any(re.fullmatch(rf"GET {path} -> HTTP 503 in \d+\.\d{{3}}s", m) for m in requests)
    assert any(re.fullmatch(rf"GET {path} -> HTTP 200 in \d+\.\d{{3}}s", m) for m in requests)
    assert any(re.fullmatch(r"SQL cancel -> \d+ row\(s\) in \d+\.\d{3}s", m) for m in requests)
    assert ("jobs_core", logging.WARNING) in {(name, level) for name, level, m in ours}
    decisions = [m for name, _, m in ours if name == "jobs_core"]
    assert any(m.startswith(f"get: GET {path}: HTTP 503; retrying in ") for m in decisions)
    assert any("endpoint is stale" in m for m in decisions)
    assert any(m.startswith(f"wait Predictive {job_id}: ") for m in decisions)


def test_a_failed_request_is_logged_with_the_drivers_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere, once = "http://127.0.0.1:9", RetryPolicy(max_attempts=1)

    async def one_get() -> None:
        async with connect(base_url=nowhere, token=TOKEN, retry=once) as client:
            with pytest.raises(JobServerError):
                await client.get("Predictive", "j1")

    with (
        caplog.at_level(logging.DEBUG, logger="jobs_transports"),
        connect_sync(base_url=nowhere, token=TOKEN, retry=once) as client,
    ):
        with pytest.raises(JobServerError):
            client.get("Predictive", "j1")
        asyncio.run(one_get())
        trio.run(one_get)
    failed = [r.getMessage() for r in caplog.records if r.name == "jobs_transports"]
    assert len(failed) == 3  # one attempt each
    assert all(re.match(r"GET /v1alpha1/jobs/ML/j1 -> failed: ", m) for m in failed)
    assert not any(TOKEN in m for m in failed)


@pytest.mark.parametrize("logger", ["jobs_core", "jobs_transports"])
def test_nothing_is_printed_unless_the_application_configures_logging(logger: str) -> None:
    code = f"import logging, jobs_transports\nlogging.getLogger({logger!r}).warning('unseen')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("", "")
    control = "import logging\nlogging.getLogger('elsewhere').warning('seen')"
    done = subprocess.run([sys.executable, "-c", control], capture_output=True, text=True)
    assert "seen" in done.stderr  # Python's last resort prints what no handler takes
