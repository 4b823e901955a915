"""Whether a socket has something waiting to be read: bytes, or the peer's end of the stream.

The pools ask before they reuse an idle connection (anything waiting there was not asked for).
`select.select` cannot take a descriptor numbered 1024 or more on Linux and macOS, which a process
holding many files or sockets hands out, so `poll` answers wherever it exists, as trio's own
check does; Windows has no `poll`, and its `select` has no such limit.
"""

from __future__ import annotations

import select
import socket
from typing import Any


def is_readable(sock: socket.socket | Any) -> bool:
    """Return True when a read of `sock` (a socket, or anything with `fileno()`) would not wait.

    Raises:
        OSError: `sock` is closed.
    """
    if not hasattr(select, "poll"):  # Windows
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
