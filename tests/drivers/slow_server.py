"""A loopback HTTP server that answers too slowly: it hangs mid-response, or trickles it.

Every wait in it is bounded (`HOLD_S`, see `loopback_server`).
"""

from __future__ import annotations

import socket

from tests.drivers.loopback_server import HOLD_S, LoopbackServer

TRICKLE_INTERVAL_S = 0.25


class SlowServer(LoopbackServer):
    """Reads each request, then answers as `mode` says.

    ``"hang"``: the headers and 10 of the 100 body bytes they announce, then nothing.
    ``"trickle"``: the headers, then one body byte every 0.25 s (40 bytes: 10 s).
    ``"silent"``: nothing at all.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        super().__init__()

    def serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(HOLD_S)
            try:
                received = b""
                while b"\r\n\r\n" not in received and len(received) < 65536:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    received += chunk
                if self.mode == "hang":
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"{" * 10
                    )
                    self.stopping.wait(HOLD_S)
                elif self.mode == "trickle":
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
                    for _ in range(40):
                        if self.stopping.wait(TRICKLE_INTERVAL_S):
                            return
                        connection.sendall(b" ")
                else:
                    self.stopping.wait(HOLD_S)
            except OSError:  # the client gave up and closed the connection
                return
