"""The SQL API: the same calls through the Snowflake connector (stored procedures and views).

Against the real service, pass your `snowflake.connector.connect` arguments and the native app's
name: ``connect_sync(snowflake={"account": ..., "user": ..., ...}, app="MY_APP")``.
"""

from __future__ import annotations

from typing import Any

import jobs_emulator
from jobs_transports import connect_sync


def main(snowflake: dict[str, Any], app: str) -> str:
    with connect_sync(snowflake=snowflake, app=app) as client:
        job = client.create_ready(
            "Logic",
            "my_engine",
            {"database": "sales", "query": "def output = count[orders]"},
            timeout_s=30,
            poll_interval_s=0.2,
            include={"details": True},
        )
        print(f"transaction {job.id} on {job.model}: {job.state}")
        for row in client.list("Logic", limit=3):
            print(f"  {row.created_on:%H:%M:%S} {row.id} {row.state}")
        return job.state


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        main(emu.snowflake, emu.app)
