"""Cassettes: a client's recorded interactions, as JSON lines.

The first line is the header: ``{"cassette": "jobs-client", "version": 1, "config": {...}}``,
the `ClientConfig` the calls ran with (replay needs it to rebuild the same effects). Each other
line is one interaction of one protocol, in the order it happened:
``{"stream": "3", "effect": {...}, "reply": ...}``, or ``"failure": {...}`` instead of ``"reply"``
when the driver threw a transport failure into the protocol. `stream` names the protocol: the
client's n-th call is ``"n"``, and child i of its k-th `Gather` is ``"n.gk.i"``, so concurrent
children can interleave in the file and still replay under any driver.

Secrets never reach an effect (drivers add credentials). `redact_line` masks the values of
credential headers in both directions (`Authorization` sent, `Set-Cookie` or `X-Auth-Token`
received) and the client's own secrets wherever a line quotes them (a body echoing the token);
a `Redactor` hook can mask more. The header never holds `ClientConfig.secrets`.

A cassette is untrusted input (it may have been edited, truncated or corrupted): whatever it holds,
reading or replaying it fails only with `CassetteError`, naming the line.
"""

from __future__ import annotations

import difflib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

import attrs

from ._config import ClientConfig
from ._errors import JobError
from ._secrets import MASK, is_credential_header, scrub_json
from ._serialization import config_from_json, config_to_json

FORMAT = "jobs-client"
VERSION = 1
REDACTED = MASK

Redactor = Callable[[dict[str, Any]], dict[str, Any]]
"""Takes a cassette line (a JSON object) and returns it with anything secret masked."""


class CassetteError(JobError):
    """A cassette that cannot be read, or a run that does not match its recording."""


def redact_line(line: dict[str, Any], masks: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return `line` with the values of credential headers (request and response) replaced, and
    every text of `masks` (`ClientConfig.masks`) replaced wherever the line holds it."""
    line = {key: _without_credentials(value) for key, value in line.items()}
    return scrub_json(line, masks) if masks else line


def _without_credentials(value: Any) -> Any:
    if not isinstance(value, dict) or value.get("type") not in ("HttpRequest", "HttpResponse"):
        return value
    headers = value.get("headers")
    if not isinstance(headers, list):
        return value
    masked = [
        [pair[0], REDACTED]
        if isinstance(pair, list) and len(pair) == 2 and is_credential_header(str(pair[0]))
        else pair
        for pair in headers
    ]
    return {**value, "headers": masked}


def header_line(config: ClientConfig) -> dict[str, Any]:
    """Return the first line of a cassette recorded with `config`."""
    return {"cassette": FORMAT, "version": VERSION, "config": config_to_json(config)}


def to_text(line: dict[str, Any]) -> str:
    """Return `line` as one line of JSON text (keys in the order they were built)."""
    return json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n"


@attrs.frozen
class Interaction:
    """One recorded effect and what answered it."""

    number: int
    """The line number in the file, for error messages."""
    stream: str
    effect: dict[str, Any]
    reply: Any = None
    failure: dict[str, Any] | None = None


@attrs.define
class Cassette:
    """A parsed cassette: its configuration and, per stream, the interactions still to replay."""

    config: ClientConfig
    streams: dict[str, deque[Interaction]]
    name: str = "cassette"
    length: int = 1
    """How many lines the file has, the header included."""
    _last_taken: dict[str, int] = attrs.field(factory=dict, init=False)

    @classmethod
    def parse(cls, lines: Iterable[str | bytes], name: str = "cassette") -> Cassette:
        """Return the cassette `lines` hold (text, or bytes in UTF-8, such as a binary file).

        Raises:
            CassetteError: not a cassette, a version this library cannot read, a line that is not
                UTF-8, not JSON (a truncated file), nested too deep, or not an interaction.
        """
        streams: dict[str, deque[Interaction]] = {}
        config: ClientConfig | None = None
        number = 0
        for number, text in _numbered(lines, name):
            line = _json_line(text, number, name)
            if config is None:
                config = _config(line, name)
                continue
            item = _interaction(line, text, number, name)
            streams.setdefault(item.stream, deque()).append(item)
        if config is None:
            raise CassetteError(f"{name}, line 1: the cassette is empty (no header line)")
        return cls(config, streams, name, number)

    def fail(self, number: int, problem: str) -> NoReturn:
        """Raise a `CassetteError` saying what is wrong with line `number`."""
        raise CassetteError(f"{self.name}, line {number}: {problem}")

    def take(self, stream: str, actual: dict[str, Any]) -> Interaction:
        """Return the next interaction of `stream`, checking that it recorded `actual`.

        Raises:
            CassetteError: the stream has no interaction left, or its next one recorded another
                effect (the message shows the difference).
        """
        pending = self.streams.get(stream)
        if not pending:
            last = self._last_taken.get(stream)
            where = (
                f"its recording ended at line {last}"
                if last is not None
                else f"the cassette ends at line {self.length} without it"
            )
            raise CassetteError(
                f"call {_call(stream)} ({_where(stream)}) emitted an effect the cassette does not "
                f"have: {where}.\n  effect: {_pretty(actual)[:2000]}"
            )
        item = pending.popleft()
        self._last_taken[stream] = item.number
        try:
            same = item.effect == actual
        except RecursionError:
            self.fail(item.number, "the recorded effect is nested too deep")
        if not same:
            diff = difflib.unified_diff(
                _pretty(item.effect).splitlines()[:_DIFF_LINES],
                _pretty(actual).splitlines()[:_DIFF_LINES],
                fromfile=f"recorded (line {item.number})",
                tofile="this run",
                lineterm="",
            )
            raise CassetteError(
                f"call {_call(stream)} ({_where(stream)}) does not match the cassette at line "
                f"{item.number}:\n" + "\n".join(diff)
            )
        return item

    def leftovers(self) -> list[Interaction]:
        """Return the interactions no replayed call has asked for, in file order."""
        return sorted((i for q in self.streams.values() for i in q), key=lambda i: i.number)


def _numbered(lines: Iterable[str | bytes], name: str) -> Iterator[tuple[int, str]]:
    """Yield each line with its number, decoded; a text file that is not UTF-8 fails as it reads."""
    number = 0
    iterator = iter(lines)
    while True:
        number += 1
        try:
            text = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise CassetteError(
                f"{name}, line {number} or near it: not UTF-8 ({exc.reason})"
            ) from None
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CassetteError(f"{name}, line {number}: not UTF-8 ({exc.reason})") from None
        yield number, text


def _refuse_constant(text: str) -> NoReturn:
    # The writer never emits NaN or Infinity (allow_nan=False): a cassette holding them was edited.
    raise ValueError(f"{text} is not JSON")


def _json_line(text: str, number: int, name: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise CassetteError(f"{name}, line {number}: JSON nested too deep") from None
    except ValueError as exc:
        # Huge integers are refused by int() itself, as a ValueError too.
        raise CassetteError(
            f"{name}, line {number}: not valid JSON (is the file truncated?): {exc}: {text[:80]!r}"
        ) from None


def _config(line: Any, name: str) -> ClientConfig:
    where = f"{name}, line 1"
    if not isinstance(line, dict) or line.get("cassette") != FORMAT:
        raise CassetteError(f"{where}: the first line is not a {FORMAT} cassette header")
    if line.get("version") != VERSION:
        raise CassetteError(
            f"{where}: cassette version {line.get('version')!r:.20} is not supported "
            f"(this library reads version {VERSION}); record it again"
        )
    try:
        return config_from_json(line.get("config"))
    except ValueError as exc:
        raise CassetteError(
            f"{where}: unusable client configuration in the header: {str(exc)[:200]}"
        ) from exc


def _interaction(line: Any, text: str, number: int, name: str) -> Interaction:
    if (
        not isinstance(line, dict)
        or not isinstance(line.get("stream"), str)
        or not isinstance(line.get("effect"), dict)
    ):
        raise CassetteError(f"{name}, line {number}: not an interaction: {text[:80]!r}")
    return Interaction(
        number, line["stream"], line["effect"], line.get("reply"), line.get("failure")
    )


def _call(stream: str) -> str:
    return stream.split(".", 1)[0]


def _where(stream: str) -> str:
    return "the call itself" if "." not in stream else f"expansion {stream}"


_DIFF_LINES = 400
"""A diff shows at most this many lines of each side: enough to see a changed request."""


def _pretty(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except RecursionError:
        return "(nested too deep to show)"
