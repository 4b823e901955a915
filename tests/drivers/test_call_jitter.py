"""Each call of one client draws its own retry jitter, and a replay draws the same again.

A generator seeded by the client's seed alone, made anew for every request, gave every call the
same backoffs: calls retrying together kept retrying together.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import pytest

import jobs_core
from jobs_core import ClientConfig, HttpRequest, HttpResponse, JobError, Now, Sleep
from jobs_transports import JobsClient, JobsClientSync

T = TypeVar("T")
BUSY = HttpResponse(503, (), b'{"message": "busy"}')
MISSING = HttpResponse(404, (), b'{"message": "not found"}')


class FlakyGateway:
    """Answers every request with a 503 first, then a 404; notes each call's backoff."""

    def __init__(self) -> None:
        self.backoffs: list[float] = []

    def run(self, protocol: jobs_core.Protocol[T]) -> T:
        answers = iter([BUSY, MISSING])
        try:
            effect = next(protocol)
            for _ in range(100):
                if isinstance(effect, Sleep):
                    self.backoffs.append(effect.seconds)
                    reply: Any = None
                elif isinstance(effect, Now):
                    reply = 0.0
                else:
                    assert isinstance(effect, HttpRequest)
                    reply = next(answers)
                effect = protocol.send(reply)
            raise AssertionError("the protocol never ended")
        except StopIteration as stop:
            result: T = stop.value
            return result

    def close(self) -> None:
        return None


class FlakyGatewayAsync:
    def __init__(self) -> None:
        self.sync = FlakyGateway()

    async def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return self.sync.run(protocol)

    async def aclose(self) -> None:
        return None


CONFIG = ClientConfig(http=True, seed=1234)


def test_calls_of_one_sync_client_back_off_apart_and_again_alike() -> None:
    runs = []
    for _ in range(2):
        gateway = FlakyGateway()
        with JobsClientSync(gateway, config=CONFIG) as client:
            for _ in range(10):
                assert client.get("Predictive", "j1") is None
        runs.append(gateway.backoffs)
    assert len(set(runs[0])) == 10  # ten calls of the same request: ten different backoffs
    assert runs[0] == runs[1]  # a second client of the same seed (a replay) draws the same


def test_calls_of_one_async_client_back_off_apart() -> None:
    gateway = FlakyGatewayAsync()

    async def calls() -> None:
        async with JobsClient(gateway, CONFIG) as client:
            for _ in range(10):
                assert await client.get("Predictive", "j1") is None

    asyncio.run(calls())
    assert len(set(gateway.sync.backoffs)) == 10


def test_waits_on_many_jobs_back_off_apart() -> None:
    """`wait_all` and `as_completed` ran with the client's unnumbered configuration: every one
    of them drew the same jitter."""
    gateway = FlakyGateway()
    with JobsClientSync(gateway, config=CONFIG) as client:
        for _ in range(5):
            with pytest.raises(JobError):
                client.wait_all([("Predictive", "j1")])
            with pytest.raises(JobError):
                next(client.as_completed([("Predictive", "j1")]))
    assert len(set(gateway.backoffs)) == 10

    async_gateway = FlakyGatewayAsync()

    async def calls() -> None:
        async with JobsClient(async_gateway, CONFIG) as client:
            for _ in range(5):
                with pytest.raises(JobError):
                    await client.wait_all([("Predictive", "j1")])
                with pytest.raises(JobError):
                    await anext(client.as_completed([("Predictive", "j1")]))

    asyncio.run(calls())
    assert len(set(async_gateway.sync.backoffs)) == 10
