"""The same async client under trio: `await op` waits, `async with op as job` too."""

from __future__ import annotations

import trio

import jobs_emulator
from jobs_transports import connect


async def main(base_url: str) -> str:
    async with connect(base_url=base_url) as client:
        op = await client.create("Prescriptive", "scheduler", {"shifts": 12})
        async with op as job:
            print(f"{job.reasoner_type} {job.id}: {job.state}")
        return job.state


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        trio.run(main, emu.base_url)
