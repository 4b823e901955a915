"""The on-disk endpoint cache: per account and application, tolerant of what it did not write,
and an entry the client cannot use or reach replaced by a discovery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

import jobs_emulator
from jobs_transports import connect, connect_sync
from jobs_transports._endpoint_cache import EndpointCache, default_path
from tests.accounts.accounts_setup import APP, PAT, write_yaml


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
        '{"acc": {"APP": {"endpoint": "http://[::1", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://h\u00e9.example", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://a b", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "http://127.0.0.1:99999", "cached_at": 1}}}',
        '{"acc": {"APP": {"endpoint": "https://x/?q=1", "cached_at": 1}}}',
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
    assert default_path({"RAI_ENDPOINT_FILE": "~/e.json"}) == tmp_path / "e.json"


def test_a_cache_that_cannot_be_replaced_leaves_no_temporary_file(tmp_path: Path) -> None:
    cache = EndpointCache(tmp_path / "endpoints.json")
    cache.path.mkdir()  # a folder where the file should be: os.replace fails
    for _ in range(3):
        cache.put("acc", "APP", "https://x")
    assert list(tmp_path.iterdir()) == [cache.path]


@pytest.fixture(scope="module")
def emu() -> Iterator[jobs_emulator.Emulator]:
    with jobs_emulator.serve(app=APP, users={"PATTY": {"pat": PAT}}) as emulator:
        yield emulator


@pytest.mark.parametrize("library", ["sync", "asyncio", "trio"])
@pytest.mark.parametrize(
    "cached",
    [
        "http://[::1",  # not a URL
        "http://h\u00e9.example",  # a host not in its xn-- form
        "http://127.0.0.1:1",  # nobody listens there
    ],
)
def test_an_unusable_or_unreachable_cached_endpoint_is_discovered_again(
    home: Path, emu: jobs_emulator.Emulator, cached: str, library: str
) -> None:
    write_yaml(home, emu, {"authenticator": "programmatic_access_token", "token": PAT}, "PATTY")
    account = emu.snowflake["account"]
    cache = EndpointCache(home / ".rai" / "endpoints.json")
    cache.path.write_text(json.dumps({account: {APP: {"endpoint": cached, "cached_at": 1}}}))
    lookups = emu.service_endpoint_calls
    if library == "sync":
        with connect_sync() as client:
            assert client.list("Logic") is not None
    else:

        async def main() -> None:
            async with connect() as client:
                assert await client.list("Logic") is not None

        asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert emu.service_endpoint_calls == lookups + 1
    assert endpoint(cache, account, APP) == emu.base_url
