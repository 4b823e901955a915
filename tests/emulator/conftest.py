"""Fixtures for driving the emulator over loopback with plain httpcore (no client package); the
emulators are the suite's (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs_emulator import Emulator
from tests.emulator.loopback_http import Http


@pytest.fixture
def http(fresh_manual_emu: Emulator) -> Iterator[Http]:
    """A keep-alive client for `fresh_manual_emu`."""
    client = Http(fresh_manual_emu)
    yield client
    client.close()
