"""Both front doors at once: jobs and transactions over HTTP, cancelling for all users over SQL."""

from __future__ import annotations

from typing import Any

import jobs_emulator
from jobs_transports import connect_sync

LONG = {"emulate": {"duration_s": 60}}


def main(base_url: str, snowflake: dict[str, Any], app: str) -> str | None:
    with connect_sync(base_url=base_url, snowflake=snowflake, app=app) as client:
        op = client.create("Logic", "my_engine", {"database": "db", "query": "q", "headers": LONG})
        # cancel(all_users=True) is CANCEL_TRANSACTION, which only the SQL API has.
        client.cancel("Logic", op.id, all_users=True)
        job = client.get("Logic", op.id)
        print(f"transaction {op.id}: {job.state if job else 'gone'}")
        return job.state if job else None


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        main(emu.base_url, emu.snowflake, emu.app)
