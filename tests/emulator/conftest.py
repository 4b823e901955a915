"""Fixtures for driving the emulator over loopback with plain httpcore (no client package)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs_emulator import Emulator, serve
from tests.emulator.loopback_http import Http


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator on a manual clock (2026-01-01T00:00:00Z), no tokens."""
    with serve(clock="manual") as emulator:
        yield emulator


@pytest.fixture
def http(emu: Emulator) -> Iterator[Http]:
    """A keep-alive client for `emu`."""
    client = Http(emu)
    yield client
    client.close()
