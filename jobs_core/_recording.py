"""Recording: a protocol wrapped so that every effect and its answer is written to a sink.

`recorded(protocol, sink, stream)` is itself a protocol: any driver runs it unchanged. It hands
each effect on, and reports the pair to `sink` once the driver answered (a reply, or a failure
thrown in). The children of a `Gather` are wrapped in turn, each under its own stream name.
`CassetteWriter` is the sink that makes a cassette's text of a client's calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from ._cassette import Redactor, header_line, redact_line, to_text
from ._config import ClientConfig
from ._effects import Gather, Protocol, SqlFailure, TransportError
from ._serialization import effect_to_json, failure_to_json, reply_to_json

T = TypeVar("T")

Sink = Callable[[dict[str, Any]], None]
"""Receives each interaction as a cassette line (see `jobs_core._cassette`)."""


def recorded(protocol: Protocol[T], sink: Sink, stream: str) -> Protocol[T]:
    """Return `protocol`, reporting its interactions to `sink` under `stream`."""
    gathers = 0
    try:
        effect = next(protocol)
        while True:
            line: dict[str, Any] = {"stream": stream, "effect": effect_to_json(effect)}
            if isinstance(effect, Gather):
                prefix = f"{stream}.g{gathers}"
                gathers += 1
                children = tuple(
                    recorded(child, sink, f"{prefix}.{i}")
                    for i, child in enumerate(effect.protocols)
                )
                sink(line)
                effect = protocol.send((yield Gather(children, effect.limit)))
                continue
            try:
                reply = yield effect
            except (TransportError, SqlFailure) as failure:
                sink({**line, "failure": failure_to_json(failure)})
                effect = protocol.throw(failure)
                continue
            sink({**line, "reply": reply_to_json(reply)})
            effect = protocol.send(reply)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        protocol.close()


class CassetteWriter:
    """Turns a client's calls into the text of a cassette recorded with `config`.

    The header line is written at once; then `record(protocol)` wraps each of the client's calls,
    in order, so that every interaction becomes a line, credentials redacted (credential headers
    of both directions, and `config.secrets` wherever quoted; then `redact` applied) before it is
    written. `write` receives each line of text as it is made (a file's `write`, say):
    the writer itself does no I/O.
    """

    def __init__(
        self,
        config: ClientConfig,
        write: Callable[[str], object],
        redact: Redactor | None = None,
    ) -> None:
        self.config = config
        self._write = write
        self._redact = redact
        self._calls = itertools.count()
        write(to_text(header_line(config)))

    def record(self, protocol: Protocol[T]) -> Protocol[T]:
        """Return `protocol`, the client's next call, recording its interactions as it runs."""
        return recorded(protocol, self._line, str(next(self._calls)))

    def _line(self, line: dict[str, Any]) -> None:
        line = redact_line(line, self.config.masks)
        if self._redact is not None:
            line = self._redact(line)
        self._write(to_text(line))
