"""What the tests' scripted loopback HTTP servers share: a listener on 127.0.0.1 whose accepting
thread serves each connection in a thread of its own, and a stop that ends every wait at once.

Every wait in a server is bounded (`HOLD_S`) and ends when the fixture stops it, so a client that
does not give up in time makes its test slow and failing, never hanging.
"""

from __future__ import annotations

import socket
import threading

HOLD_S = 10.0
"""How long a server holds a connection at most: far longer than any limit the tests set."""


class LoopbackServer:
    """Accepts connections until `stop`, serving each with `serve` in its own thread.
    `accepted` counts the connections; `stopping` is set once the server stops."""

    def __init__(self) -> None:
        self.accepted = 0
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def serve(self, connection: socket.socket) -> None:
        """Serve one accepted connection (subclasses say how), closing it at the end."""
        raise TypeError(f"{type(self).__name__} does not say how it serves a connection")

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed
                return
            self.accepted += 1
            thread = threading.Thread(target=self.serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(HOLD_S)
