"""Plugin tests run pytest inside pytest: the outer run's CI variable must not pick the mode."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def not_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
