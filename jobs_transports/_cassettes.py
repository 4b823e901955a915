"""Recording a client's calls to a cassette file, and replaying them from one.

The recording and the replay themselves are pure (`jobs_core.recorded`, `jobs_core.Replayer`);
this module only reads and writes the file and plugs them in where a client expects a driver.
"""

from __future__ import annotations

import itertools
import os
from typing import IO, Any, TypeVar

import jobs_core
from jobs_core import Cassette, ClientConfig, Redactor, Replayer, recorded
from jobs_core._cassette import header_line, redact_line, to_text

from ._gateways import AsyncGateway, SyncGateway

T = TypeVar("T")
Path = str | os.PathLike[str]


class CassetteWriter:
    """Writes interactions to a cassette file as they happen, secrets redacted first."""

    def __init__(self, path: Path, config: ClientConfig, redact: Redactor | None = None) -> None:
        self._file: IO[str] | None = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._redact = redact
        self._calls = itertools.count()
        self._write(header_line(config))

    def next_stream(self) -> str:
        """Return the stream name of the client's next call."""
        return str(next(self._calls))

    def __call__(self, line: dict[str, Any]) -> None:
        line = redact_line(line)
        if self._redact is not None:
            line = self._redact(line)
        self._write(line)

    def _write(self, line: dict[str, Any]) -> None:
        if self._file is None:
            raise ValueError("the cassette is closed")
        self._file.write(to_text(line))
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_cassette(path: Path) -> Cassette:
    """Return the cassette stored at `path`.

    Raises:
        CassetteError: the file is not a readable cassette.
    """
    with open(path, encoding="utf-8") as file:
        return Cassette.parse(file, name=os.fspath(path))


class RecordingSync:
    """Runs each call on `driver`, recording it to `writer`."""

    def __init__(self, driver: SyncGateway, writer: CassetteWriter) -> None:
        self._driver = driver
        self.writer = writer

    def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return self._driver.run(recorded(protocol, self.writer, self.writer.next_stream()))

    def close(self) -> None:
        try:
            self._driver.close()
        finally:
            self.writer.close()


class RecordingAsync:
    """Runs each call on `driver`, recording it to `writer`."""

    def __init__(self, driver: AsyncGateway, writer: CassetteWriter) -> None:
        self._driver = driver
        self.writer = writer

    async def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return await self._driver.run(recorded(protocol, self.writer, self.writer.next_stream()))

    async def aclose(self) -> None:
        try:
            await self._driver.aclose()
        finally:
            self.writer.close()


class ReplaySync:
    """Answers each call from a cassette; nothing to close."""

    def __init__(self, replayer: Replayer) -> None:
        self.replayer = replayer

    def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return self.replayer.run(protocol)

    def close(self) -> None:
        return None


class ReplayAsync:
    """Answers each call from a cassette, without ever suspending."""

    def __init__(self, replayer: Replayer) -> None:
        self.replayer = replayer

    async def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return self.replayer.run(protocol)

    async def aclose(self) -> None:
        return None
