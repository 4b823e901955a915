"""A client works in a process holding more than 1,024 open files or sockets.

Such a process hands the client's sockets descriptors numbered 1,024 and up, which
`select.select` refuses on Linux and macOS ("filedescriptor out of range"): the pools' check
that an idle connection is still clean before they reuse it must not depend on it. Each driver
makes several calls on one client, so that its connections are reused.
"""

from __future__ import annotations

import os
import resource
import socket
from collections.abc import Iterator
from typing import Any

import pytest

import jobs_emulator
from tests.drivers.conftest import client_options, run_scenario
from tests.drivers.uniform import Uniform

HIGH = 1_100


@pytest.fixture
def descriptors_taken() -> Iterator[None]:
    """Take every descriptor number below `HIGH`, so that the next sockets are numbered above
    1,024; give them back afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2 * HIGH:
        pytest.skip(f"this process may open only {hard} files")
    if soft != resource.RLIM_INFINITY and soft < 2 * HIGH:
        resource.setrlimit(resource.RLIMIT_NOFILE, (2 * HIGH, hard))
    taken: list[int] = []
    try:
        while not taken or taken[-1] < HIGH:
            taken.append(os.open(os.devnull, os.O_RDONLY))
        with socket.socket() as probe:
            assert probe.fileno() > 1024  # the client's sockets will be numbered above it too
        yield
    finally:
        for descriptor in taken:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("descriptors_taken")
def test_calls_reuse_connections_numbered_past_1024(
    driver: str, session_real_emu: jobs_emulator.Emulator
) -> None:
    async def scenario(client: Uniform) -> list[Any]:
        job = await client.create("Predictive", "forecaster", {"horizon": 3})
        return [await client.get("Predictive", job.id) for _ in range(3)]

    jobs = run_scenario(driver, client_options(session_real_emu, "http"), scenario)
    assert len(jobs) == 3
    assert all(job is not None and job.reasoner_type == "Predictive" for job in jobs)
