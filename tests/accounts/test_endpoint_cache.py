"""The on-disk endpoint cache: per account and application, tolerant of what it did not write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs_transports._endpoint_cache import EndpointCache, default_path


def endpoint(cache: EndpointCache, account: str, app: str) -> str:
    cached = cache.get(account, app)
    assert cached is not None
    return cached.endpoint


def test_entries_per_account_and_application(tmp_path: Path) -> None:
    cache = EndpointCache(tmp_path / "rai" / "endpoints.json")
    assert cache.get("acc", "APP") is None
    cache.put("acc", "APP", "https://one")
    cache.put("acc", "OTHER", "https://two")
    cache.put("other", "APP", "https://three")
    cache.put("acc", "APP", "https://four")
    assert endpoint(cache, "acc", "APP") == "https://four"
    assert endpoint(cache, "acc", "OTHER") == "https://two"
    assert endpoint(cache, "other", "APP") == "https://three"
    data = json.loads(cache.path.read_text())
    assert data["acc"]["APP"]["cached_at"] > 1.7e9
    assert list(cache.path.parent.iterdir()) == [cache.path]  # no temporary file left


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"acc": []}',
        '{"acc": {"APP": "https://x"}}',
        '{"acc": {"APP": {"endpoint": 3, "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "ftp://x", "cached_at": 1}}}',
    ],
)
def test_what_it_did_not_write_is_a_miss_and_is_replaced(tmp_path: Path, text: str) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.path.write_text(text)
    assert cache.get("acc", "APP") is None
    cache.put("acc", "APP", "https://new")
    assert endpoint(cache, "acc", "APP") == "https://new"


def test_an_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = EndpointCache(blocker / "endpoints.json")  # its folder cannot be created
    cache.put("acc", "APP", "https://x")
    assert cache.get("acc", "APP") is None


def test_the_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_path({}) == tmp_path / ".rai" / "endpoints.json"
    assert default_path({"RAI_ENDPOINT_FILE": "/x/e.json"}) == Path("/x/e.json")
