"""The async client under asyncio: start three jobs at once, then wait for all of them."""

from __future__ import annotations

import asyncio

import jobs_emulator
from jobs_transports import connect


async def main(base_url: str) -> list[str]:
    async with connect(base_url=base_url) as client:
        ops = [await client.create("Predictive", "forecaster", {"n": n}) for n in range(3)]
        jobs = await asyncio.gather(*(op.wait(timeout_s=30, poll_interval_s=0.2) for op in ops))
        for job in jobs:
            print(f"{job.reasoner_type} {job.id}: {job.state}")
        return [job.state for job in jobs]


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        asyncio.run(main(emu.base_url))
