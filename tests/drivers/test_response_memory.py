"""Reading a large response body holds about its size once, not the chunks and their join too.

Both h11 pools read a response through `ResponseReader`, fed in the reads the pools make; this
feeds it directly, framed each way HTTP/1.1 allows, and measures the memory allocated while it
reads (tracemalloc: allocations, not time).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import h11
import pytest

from jobs_transports._h11_exchange import MAX_RESPONSE_BYTES, Response, ResponseReader

READ = 65_536
"""What one read of a pool's socket returns at most."""


def wire(framing: str, size: int) -> Iterator[bytes]:
    """Yield the bytes of a response with a body of `size` bytes, framed by `framing`, in reads;
    an empty read (the server closing) ends a close-delimited one."""
    piece = b"x" * READ
    if framing == "length":
        yield b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
    elif framing == "chunked":
        yield b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    else:
        yield b"HTTP/1.0 200 OK\r\n\r\n"
    for start in range(0, size, READ):
        data = piece[: min(READ, size - start)]
        yield b"%x\r\n%b\r\n" % (len(data), data) if framing == "chunked" else data
    yield b"0\r\n\r\n" if framing == "chunked" else b""


def read_measured(framing: str, size: int) -> tuple[Response, int]:
    """Return the response read from `wire(framing, size)`, and the most memory allocated
    meanwhile beyond what was allocated before."""
    state = h11.Connection(h11.CLIENT)
    state.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    state.send(h11.EndOfMessage())
    reader = ResponseReader(state)
    reads = wire(framing, size)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        response = None
        for data in reads:  # bounded: the reads of one body
            state.receive_data(data)
            response = reader.response()
            if response is not None:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response is not None
    return response, peak - before


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
@pytest.mark.parametrize("size", [8 << 20, MAX_RESPONSE_BYTES])
def test_a_large_body_peaks_at_about_its_size(framing: str, size: int) -> None:
    response, peak = read_measured(framing, size)
    assert type(response.content) is bytes
    assert len(response.content) == size
    assert response.content[:1] == response.content[-1:] == b"x"
    assert peak < 1.3 * size  # joining a list of the chunks held twice the body
