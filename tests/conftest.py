"""Settings for the whole suite."""

from hypothesis import settings

# Hypothesis' per-example deadline turns a stall of a loaded CI machine into a "flaky" failure;
# the suite's own timeout (pytest-timeout) still catches a test that really hangs.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
