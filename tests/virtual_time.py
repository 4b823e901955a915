"""Clients on the emulator's manual clock: a `Sleep` moves the clock forward instead of waiting.

A test whose point is not timing opens its clients through `VirtualTime(emulator)`: the driver's
`Now` reads the emulator's manual clock and its `Sleep` advances that clock, so a job scripted to
last seconds ends after a few polls that take no real time. A test without an emulator passes a
`ManualClock` of its own, so that retry back-offs take no real time either. The clients are the
ones `connect_sync` and `connect` build (same checks, configuration and backends); only the
driver's clock differs. Concurrent sleeps each move the clock by their own length, so virtual time
runs at least as fast as the calls would see it on a real clock: a job never ends later than it
would live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.lowlevel

from jobs_emulator import Emulator, ManualClock
from jobs_transports import JobsClient, JobsClientSync, connect, connect_sync
from jobs_transports._async_driver import AsyncDriver
from jobs_transports._cassettes import CassetteFile, RecordingAsync, RecordingSync
from jobs_transports._sync_driver import SyncDriver


class VirtualTime:
    """A manual clock (`source` itself, or the clock of the emulator `source`) as the clock of the
    clients opened here."""

    def __init__(self, source: Emulator | ManualClock) -> None:
        """Raises `TypeError` when the emulator `source` is not on a manual clock."""
        clock = source if isinstance(source, ManualClock) else source.engine.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("virtual time needs an emulator on a manual clock")
        self._clock = clock

    def now(self) -> float:
        """Returns the emulator's time (POSIX seconds)."""
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        """Advances the emulator's clock by `seconds`, at once."""
        self._clock.advance(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """Advances the emulator's clock by `seconds`, then lets the other tasks run (as a real
        sleep would)."""
        self._clock.advance(seconds)
        await anyio.lowlevel.checkpoint()

    def connect_sync(self, *, record: Path | None = None, **options: Any) -> JobsClientSync:
        """Returns `connect_sync(**options)` on virtual time, recording to `record` if given."""
        client = connect_sync(**options)
        built = client.gateway
        assert isinstance(built, SyncDriver)
        driver = SyncDriver(http=built.http, sql=built.sql, sleep=self.sleep, clock=self.now)
        if record is None:
            return JobsClientSync(driver, config=client.config)
        cassette = CassetteFile(record, client.config, options.get("redact"))
        return JobsClientSync(RecordingSync(driver, cassette), config=client.config)

    def connect(self, *, record: Path | None = None, **options: Any) -> JobsClient:
        """Returns `connect(**options)` on virtual time, recording to `record` if given."""
        client = connect(**options)
        built = client.gateway
        assert isinstance(built, AsyncDriver)
        driver = AsyncDriver(http=built.http, sql=built.sql, sleep=self.sleep_async, clock=self.now)
        if record is None:
            return JobsClient(driver, client.config)
        cassette = CassetteFile(record, client.config, options.get("redact"))
        return JobsClient(RecordingAsync(driver, cassette), client.config)
