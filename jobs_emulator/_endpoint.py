"""Where the Direct Access API answers, where it used to, and how often it was asked for.

The Direct Access API starts on the emulator's one port and may move to another
(`Emulator.move_direct_access()`); every address it left answers the stale-endpoint error, as a
real endpoint does once the service behind it has been replaced. `CALL <app>.app.service_endpoint`
reads the current address and is counted, so a test can show a client that cached it asked none.
"""

from __future__ import annotations

import threading


def authority(host: str, port: int) -> str:
    """Return `HOST:PORT` as a URL writes it, an IPv6 address in brackets (`[::1]:8080`)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class DirectAccessEndpoint:
    """The Direct Access API's current address; thread-safe."""

    def __init__(self, host: str, port: int = 0) -> None:
        """Start at `host:port`; port 0 means not bound yet (`move()` binds it)."""
        self._host = host
        self._port = port
        self._retired: set[int] = set()
        self._lookups = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the base URL, scheme included: `http://HOST:PORT`."""
        return f"http://{self.address}"

    @property
    def address(self) -> str:
        """Return `HOST:PORT`, the endpoint as a token exchange's scope names it."""
        with self._lock:
            return authority(self._host, self._port)

    @property
    def lookups(self) -> int:
        """Return how many times `lookup()` answered."""
        with self._lock:
            return self._lookups

    def lookup(self) -> str:
        """Return the base URL and count the lookup (a `service_endpoint` call)."""
        with self._lock:
            self._lookups += 1
            return f"http://{authority(self._host, self._port)}"

    def serves(self, port: int) -> bool:
        """Return whether the Direct Access API answers on the local `port`."""
        with self._lock:
            return port == self._port

    def retired(self, address: str) -> bool:
        """Return whether `address` (`HOST:PORT`) is one the API has moved away from."""
        with self._lock:
            retired = (authority(self._host, port).casefold() for port in self._retired)
            return address.casefold() in retired

    def move(self, port: int) -> str:
        """Move the API to `port`; return its new base URL. The old port becomes stale."""
        with self._lock:
            if self._port:
                self._retired.add(self._port)
            self._port = port
            return f"http://{authority(self._host, port)}"
