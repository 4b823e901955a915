"""The `jobs` command reads JOBS_* variables: tests run without the caller's."""

from __future__ import annotations

import pytest

from jobs_transports.cli._arguments import ENVIRONMENT


@pytest.fixture(autouse=True)
def no_jobs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
