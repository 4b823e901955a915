"""The h11 pools over TLS (the blocking one, the async one on asyncio and trio), against a local
HTTPS server with a test CA."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator

import httpcore
import pytest
import trustme

from jobs_transports._h11_blocking import BlockingPool
from jobs_transports._h11_pool import H11Pool
from tests.drivers.reliability_fixtures import RUNTIMES, run_async

BODY = b'{"ok": true}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_port(ca: trustme.CA) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="https test server")
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_requests_over_tls_reuse_one_connection(
    ca: trustme.CA, https_port: int, runtime: str
) -> None:
    url = f"https://localhost:{https_port}/v1alpha1/jobs"

    async def main() -> list[tuple[int, bytes]]:
        async with H11Pool(max_connections=1, tls=client_context(ca)) as pool:
            answers = []
            for _ in range(3):
                response = await pool.request("GET", url)
                answers.append((response.status, response.content))
            assert len(pool.connections) == 1
            return answers

    assert run_async(runtime, main) == [(200, BODY)] * 3


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_certificate_for_another_host_is_refused(
    ca: trustme.CA, https_port: int, runtime: str
) -> None:
    url = f"https://127.0.0.1:{https_port}/v1alpha1/jobs"  # the certificate names localhost

    async def main() -> None:
        async with H11Pool(max_connections=1, tls=client_context(ca)) as pool:
            with pytest.raises(httpcore.ConnectError, match="certificate"):
                await pool.request("GET", url)
            assert pool.connections == []

    run_async(runtime, main)


def test_blocking_requests_over_tls_reuse_one_connection(ca: trustme.CA, https_port: int) -> None:
    url = f"https://localhost:{https_port}/v1alpha1/jobs"
    with BlockingPool(max_connections=1, tls=client_context(ca)) as pool:
        answers = [pool.request("GET", url) for _ in range(3)]
        assert len(pool.connections) == 1
    assert [(a.status, a.content) for a in answers] == [(200, BODY)] * 3


def test_the_blocking_pool_refuses_a_certificate_for_another_host(
    ca: trustme.CA, https_port: int
) -> None:
    url = f"https://127.0.0.1:{https_port}/v1alpha1/jobs"  # the certificate names localhost
    with BlockingPool(max_connections=1, tls=client_context(ca)) as pool:
        with pytest.raises(httpcore.ConnectError, match="certificate"):
            pool.request("GET", url)
        assert pool.connections == []


@pytest.mark.parametrize("closed_in", RUNTIMES)
def test_a_trio_pool_over_tls_closes_once_its_run_is_over(
    ca: trustme.CA, https_port: int, closed_in: str
) -> None:
    """Closing a trio socket outside a trio run raised RuntimeError ("must be called from async
    context") and left the connection open: pytest fails on its ResourceWarning otherwise."""
    url = f"https://localhost:{https_port}/v1alpha1/jobs"
    pool = H11Pool(max_connections=1, tls=client_context(ca))

    async def use() -> None:
        await pool.request("GET", url)

    run_async("trio", use)
    (connection,) = pool.connections
    run_async(closed_in, pool.aclose)
    assert connection.closed
