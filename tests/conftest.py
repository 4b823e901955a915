"""Settings and fixtures for the whole suite."""

from collections.abc import Iterator

import pytest
from hypothesis import settings

import jobs_emulator

# Hypothesis' per-example deadline turns a stall of a loaded CI machine into a "flaky" failure;
# the suite's own timeout (pytest-timeout) still catches a test that really hangs.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture(scope="module")
def open_emulator() -> Iterator[jobs_emulator.Emulator]:
    """An emulator on real time with no tokens configured, shared by the tests of one module."""
    with jobs_emulator.serve() as emulator:
        yield emulator
