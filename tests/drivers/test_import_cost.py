"""`import jobs_transports` loads neither trio nor httpcore (which imports trio when installed) nor
the async driver's h11 pool, nor what only configuration files, key-pair logins and the endpoint
cache's writers need (jwt, cryptography, yaml, filelock); they load with the first client that
needs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("trio", "httpcore", "jobs_transports._h11_pool")
ACCOUNTS = ("jwt", "cryptography", "yaml", "filelock")


def loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_the_package_loads_neither_trio_nor_httpcore_nor_the_async_pool() -> None:
    assert loaded_after("import jobs_transports") == set()


def test_importing_the_package_loads_nothing_configuration_files_or_key_pairs_need() -> None:
    assert loaded_after("import jobs_transports", ACCOUNTS) == set()
    assert loaded_after("import jobs_transports, yaml", ACCOUNTS) == {"yaml"}  # the probe sees


def test_a_sql_client_under_asyncio_loads_neither() -> None:
    code = """
import asyncio, sqlite3
import jobs_transports

async def main():
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    async with jobs_transports.connect(sql_connection=connection, app="APP") as client:
        repr(client)
    connection.close()

asyncio.run(main())
"""
    assert loaded_after(code) == set()


def test_a_sync_http_client_loads_httpcore_and_so_trio_but_not_the_async_pool() -> None:
    code = "import jobs_transports\njobs_transports.connect_sync(base_url='http://127.0.0.1:9')"
    assert loaded_after(code) == {"trio", "httpcore"}


def test_an_async_http_client_loads_the_async_pool() -> None:
    code = """
import asyncio
import jobs_transports

async def main():
    async with jobs_transports.connect(base_url="http://127.0.0.1:9") as client:
        repr(client)

asyncio.run(main())
"""
    assert loaded_after(code) == set(HEAVY)
