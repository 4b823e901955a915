"""A sync client used on both sides of a fork (a client made at import, then `multiprocessing`
with fork, or a pre-forking server): each process gets its own answers.

A keep-alive connection both processes wrote to would hand one the answer to the other's request.
The child lets go of the connections it inherited, without shutting them down, and opens its
own; the parent's stay its own and open. A lock a thread of the parent held at the fork (the
pool's, the account session's) is new in the child, where that thread does not exist.
"""

from __future__ import annotations

import os
import sys

import pytest

import jobs_emulator
from jobs_core import ClientConfig
from jobs_transports import connect_sync
from jobs_transports._account_session import AccountSession, TokenSource
from tests.drivers.conftest import client_options

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform"),
    # The emulator serves from a thread: forking a process with threads is what the test is for.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def test_a_forked_child_uses_connections_of_its_own(
    session_real_emu: jobs_emulator.Emulator,
) -> None:
    with connect_sync(**client_options(session_real_emu, "http")) as client:
        job_id = client.create("Predictive", "forecaster", {"horizon": 1}).id
        pool = client.gateway.http.pool  # type: ignore[attr-defined]
        (parent_connection,) = pool.connections

        with pool._lock:  # as if another thread were picking a connection at the fork
            pid = os.fork()
        if pid == 0:  # the child: report through the exit status, never return into pytest
            status = 1
            try:
                inherited = pool.connections
                job = client.get("Predictive", job_id)
                own = pool.connections
                if inherited == [] and job is not None and job.id == job_id and own:
                    status = 0 if own[0] is not parent_connection else 2
            finally:
                sys.stdout.flush()
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0

        # The parent's connection is still open and still its own: the next call reuses it.
        job = client.get("Predictive", job_id)
        assert job is not None
        assert job.id == job_id
        assert pool.connections == [parent_connection]


def test_a_forked_child_gets_a_lock_of_its_own_for_its_account() -> None:
    session = AccountSession(ClientConfig(http=True), TokenSource(fixed="t"), account="a", app="A")
    with session.lock:  # as if another thread were renewing the token at the fork
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                if session.lock.acquire(timeout=5):
                    status = 0
            finally:
                os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
