"""Recording a client's calls to a cassette file, and replaying them from one.

The recording and the replay themselves are pure (`jobs_core.recorded`, `jobs_core.Replayer`);
this module only reads and writes the file and plugs them in where a client expects a driver.
"""

from __future__ import annotations

import os
from typing import IO, TypeVar

import jobs_core
from jobs_core import Cassette, CassetteError, CassetteWriter, ClientConfig, Redactor, Replayer

from ._gateways import JobsGateway, JobsGatewaySync

T = TypeVar("T")
Path = str | os.PathLike[str]


class CassetteFile:
    """A cassette file being recorded: `record(protocol)` records one client call into it.

    The text comes from a `jobs_core.CassetteWriter`; this only writes it to the file.
    """

    def __init__(self, path: Path, config: ClientConfig, redact: Redactor | None = None) -> None:
        """Open `path` for writing (replacing a file there).

        Raises:
            CassetteError: `path` cannot be written (its folder is missing, say).
        """
        self.config = config
        self.name = os.fspath(path)
        try:
            self._file: IO[str] | None = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise CassetteError(
                f"{self.name}: cannot write the cassette: {exc.strerror or exc}"
            ) from exc
        self._writer = CassetteWriter(config, self._write, redact)

    def record(self, protocol: jobs_core.Protocol[T]) -> jobs_core.Protocol[T]:
        """Return `protocol`, the client's next call, recorded to the file as it runs."""
        return self._writer.record(protocol)

    def _write(self, text: str) -> None:
        if self._file is None:
            raise ValueError("the cassette is closed")
        self._file.write(text)
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_cassette(path: Path) -> Cassette:
    """Return the cassette stored at `path`.

    Raises:
        CassetteError: the file cannot be read (missing, a directory...) or is not a cassette.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            return Cassette.parse(file, name=name)
    except OSError as exc:
        raise CassetteError(f"{name}: cannot read the cassette: {exc.strerror or exc}") from exc


class RecordingSync:
    """Runs each call on `driver`, recording it to `writer`."""

    def __init__(self, driver: JobsGatewaySync, writer: CassetteFile) -> None:
        self._driver = driver
        self.writer = writer

    def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return self._driver.run(self.writer.record(protocol))

    def __repr__(self) -> str:
        return f"RecordingSync(to {self.writer.name!r} over {self._driver!r})"

    def close(self) -> None:
        try:
            self._driver.close()
        finally:
            self.writer.close()


class RecordingAsync:
    """Runs each call on `driver`, recording it to `writer`."""

    def __init__(self, driver: JobsGateway, writer: CassetteFile) -> None:
        self._driver = driver
        self.writer = writer

    async def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return await self._driver.run(self.writer.record(protocol))

    def __repr__(self) -> str:
        return f"RecordingAsync(to {self.writer.name!r} over {self._driver!r})"

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from a cassette)"

    def close(self) -> None:
        return None


class ReplayAsync:
    """Answers each call from a cassette, without ever suspending."""

    def __init__(self, replayer: Replayer) -> None:
        self.replayer = replayer

    async def run(self, protocol: jobs_core.Protocol[T]) -> T:
        return self.replayer.run(protocol)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from a cassette)"

    async def aclose(self) -> None:
        return None
