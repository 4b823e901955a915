"""Settings and fixtures for the whole suite."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

import jobs_emulator

# Hypothesis' per-example deadline turns a stall of a loaded CI machine into a "flaky" failure;
# the suite's own timeout (pytest-timeout) still catches a test that really hangs. Under CI the
# examples are the same on every run, so whether a change lands does not depend on the draw; runs
# elsewhere draw anew, to keep finding what the fixed draw does not.
settings.register_profile("suite", deadline=None)
settings.register_profile("ci", parent=settings.get_profile("suite"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "suite")


# Emulator fixtures are named by scope and clock: `module_real_emu` is shared by the tests of one
# module on real time, `fresh_manual_emu` is a test's own on a manual clock. tests/drivers adds the
# ones its clients need.


@pytest.fixture(scope="module")
def module_real_emu() -> Iterator[jobs_emulator.Emulator]:
    """An emulator on real time with no tokens configured, shared by the tests of one module."""
    with jobs_emulator.serve() as emulator:
        yield emulator


@pytest.fixture
def fresh_manual_emu() -> Iterator[jobs_emulator.Emulator]:
    """An emulator of the test's own on a manual clock (2026-01-01T00:00:00Z), no tokens."""
    with jobs_emulator.serve(clock="manual") as emulator:
        yield emulator
