"""Quick start: create a Predictive job, wait for it, read it back (blocking client).

Against the real service, pass its Direct Access URL and a token:
``connect_sync(base_url="https://...", token="...")``.
"""

from __future__ import annotations

import jobs_emulator
from jobs_transports import connect_sync


def main(base_url: str) -> str:
    with connect_sync(base_url=base_url) as client:
        op = client.create("Predictive", "forecaster", {"horizon_days": 7})
        print(f"created {op.metadata['reasoner_type']} job {op.id}")
        job = op.wait(timeout_s=30, poll_interval_s=0.2)
        print(f"{job.id} ended {job.state} after {job.duration} ms")
        return job.state


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        main(emu.base_url)
