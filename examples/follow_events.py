"""Follow a job's progress events as they arrive; stop, and resume from the iterator's token."""

from __future__ import annotations

import jobs_emulator
from jobs_transports import connect_sync


def main(base_url: str) -> list[int]:
    with connect_sync(base_url=base_url) as client:
        script = {"emulate": {"duration_s": 1.5, "events": 12}}
        op = client.create("Predictive", "forecaster", script)
        events = client.iter_events("Predictive", op.id, follow=True, poll_interval_s=0.1)
        seen = []
        for event in events:
            seen.append(event["index"])
            print(f"  {event['message']:<16} {event['progress']:>5.0%}")
            if len(seen) == 4:
                break  # a reader that stops half way...
        # ...and one that resumes from its token: no event is lost (a page cut short is re-read).
        resumed = client.iter_events(
            "Predictive", op.id, events.continuation_token, follow=True, poll_interval_s=0.1
        )
        for event in resumed:
            if event["index"] not in seen:
                seen.append(event["index"])
                print(f"  {event['message']:<16} {event['progress']:>5.0%}")
        print(f"{len(seen)} events; stream ended: {resumed.continuation_token is None}")
        return seen


if __name__ == "__main__":
    with jobs_emulator.serve() as emu:
        main(emu.base_url)
