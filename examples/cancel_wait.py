"""Give up waiting without losing the job: a cancelled wait leaves job and client as they were.

Stopping the *wait* (a timeout scope) is not cancelling the *job*: the job runs on until
`client.cancel(...)`.
"""

from __future__ import annotations

import trio

import jobs_emulator
from jobs_transports import connect


async def main(base_url: str) -> tuple[str, str | None]:
    async with connect(base_url=base_url) as client:
        op = await client.create("Prescriptive", "scheduler", {"emulate": {"duration_s": 60}})
        with trio.move_on_after(0.5):
            await op.wait(poll_interval_s=0.1)
        status = (await op.status()).status
        print(f"stopped waiting; the job is {status}")
        await client.cancel("Prescriptive", op.id)
        job = await client.get("Prescriptive", op.id)
        print(f"after cancel: {job.state if job else 'gone'}")
        return status, job.state if job else None


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        trio.run(main, emu.base_url)
