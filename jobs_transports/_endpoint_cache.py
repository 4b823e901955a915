"""The on-disk cache of Direct Access endpoints, so a new process skips the SQL round trip.

One JSON file, ``~/.rai/endpoints.json`` unless `RAI_ENDPOINT_FILE` names another, holding per
account and application the endpoint and when it was cached::

    {"myorg-myaccount": {"RELATIONALAI": {"endpoint": "https://...", "cached_at": 1767000000.0}}}

A missing or unreadable file, or an entry that is not a base URL the client would accept from its
user (`checked_base_url`), is a cache miss (the cache is only an optimisation): the endpoint is
discovered again and replaces the entry.

Many processes may share the file (CI jobs on one machine). A write replaces the file at once, so
a reader never sees half of one and takes no lock. A writer reads the file, adds its entry and
writes it back holding a lock on ``endpoints.json.lock`` beside it (`filelock`: ``flock`` on
POSIX), so two writers at once never drop each other's entry. That file stays, empty, readable by
its owner only: removing it while another process waits on it would let a third lock a new file
of the same name, writing at the same time as the second. A writer waits `LOCK_WAIT_S` at most
(the kernel frees the lock of a process that ended; this bounds one that hangs holding it, or a
file system that never grants it), then leaves the cache as it is: a lock that cannot be had, or
a file that cannot be written, costs the next process a discovery, never a call.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from jobs_core import JobConfigurationError

from ._http_target import checked_base_url

log = logging.getLogger("jobs_transports.accounts")

LOCK_WAIT_S = 1.0
"""How long a writer waits for another's lock: a write holds it for about a millisecond, so only
a process that hangs holding it makes one wait this long. The wait blocks the caller (an event
loop too, as the cache's file I/O does), hence short."""


def default_path(env: Mapping[str, str]) -> Path:
    """Return the cache file: `RAI_ENDPOINT_FILE` (``~`` expanded), else ~/.rai/endpoints.json."""
    return Path(
        env.get("RAI_ENDPOINT_FILE") or Path.home() / ".rai" / "endpoints.json"
    ).expanduser()


@attrs.frozen
class CachedEndpoint:
    """An endpoint and when (seconds since the epoch) it was cached."""

    endpoint: str
    cached_at: float


@attrs.frozen
class EndpointCache:
    """The endpoints cached in file `path`."""

    path: Path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.debug("endpoint cache %s unusable, ignored: %s", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, account: str, app: str) -> CachedEndpoint | None:
        """Return the endpoint cached for (`account`, `app`), or None."""
        entry = self._read().get(account, {})
        entry = entry.get(app) if isinstance(entry, dict) else None
        if not isinstance(entry, dict):
            return None
        endpoint, cached_at = entry.get("endpoint"), entry.get("cached_at")
        if not isinstance(endpoint, str) or not isinstance(cached_at, int | float):
            return None
        try:
            endpoint = checked_base_url(endpoint)
        except JobConfigurationError as exc:
            # Not one this client wrote: discovered again, then replaced.
            log.debug(
                "endpoint cache %s: the entry of %s/%s ignored: %s", self.path, account, app, exc
            )
            return None
        return CachedEndpoint(endpoint, float(cached_at))

    @property
    def lock_path(self) -> Path:
        """The file whose lock a writer holds: ``endpoints.json.lock`` beside the cache."""
        return self.path.with_name(self.path.name + ".lock")

    def put(self, account: str, app: str, endpoint: str) -> None:
        """Cache `endpoint` for (`account`, `app`), replacing what was there and keeping the
        entries of others, whichever processes write them meanwhile.

        A cache that cannot be written, or whose lock another process holds past `LOCK_WAIT_S`,
        is logged and otherwise ignored.
        """
        from filelock import FileLock, Timeout  # loaded by the processes that write only

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(self.lock_path, timeout=LOCK_WAIT_S, mode=0o600):
                data = self._read()
                accounts = data.setdefault(account, {})
                if not isinstance(accounts, dict):
                    accounts = data[account] = {}
                accounts[app] = {"endpoint": endpoint, "cached_at": time.time()}
                self._write(data)
        except Timeout:
            log.warning(
                "endpoint cache %s not written: another process held %s for more than %s s",
                self.path,
                self.lock_path,
                LOCK_WAIT_S,
            )
        except (OSError, NotImplementedError, Warning) as exc:
            # The folder, the file or its lock cannot be had; or the file system has no flock:
            # filelock 3.x raises NotImplementedError, 4.x warns as it falls back to a lock of
            # its own, which raises where warnings are errors (a test suite's, say).
            log.debug("endpoint cache %s not written: %r", self.path, exc)

    def _write(self, data: dict[str, Any]) -> None:
        """Replace the file with `data` at once (readable by its owner only), or leave it as it
        was: the temporary file is removed when the replacement fails.

        Raises:
            OSError: the file cannot be written.
        """
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
