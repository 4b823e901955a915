"""A loopback HTTP server that answers too slowly: it hangs mid-response, or trickles it.

Every wait in it is bounded (`HOLD_S`) and ends at once when the fixture stops it, so a client
that does not give up in time makes its test slow and failing, never hanging.
"""

from __future__ import annotations

import socket
import threading

HOLD_S = 10.0
"""How long the server holds a response at most: far longer than any limit the tests set."""
TRICKLE_INTERVAL_S = 0.25


class SlowServer:
    """Reads each request, then answers as `mode` says.

    ``"hang"``: the headers and 10 of the 100 body bytes they announce, then nothing.
    ``"trickle"``: the headers, then one body byte every 0.25 s (40 bytes: 10 s).
    ``"silent"``: nothing at all.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.accepted = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed
                return
            self.accepted += 1
            thread = threading.Thread(target=self._answer, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _answer(self, connection: socket.socket) -> None:
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
                    self._stop.wait(HOLD_S)
                elif self.mode == "trickle":
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
                    for _ in range(40):
                        if self._stop.wait(TRICKLE_INTERVAL_S):
                            return
                        connection.sendall(b" ")
                else:
                    self._stop.wait(HOLD_S)
            except OSError:  # the client gave up and closed the connection
                return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(HOLD_S)
