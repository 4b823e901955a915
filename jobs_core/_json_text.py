"""JSON text in and out: what the servers send decoded (through msgspec when it is installed, one
result always), and what the client sends encoded compactly.

msgspec decodes about twice as fast as the standard library, and a body is decoded on every call,
so the core uses it when it can; it is not a dependency of the core, which works the same without
it. It decodes what it accepts exactly as `json.loads` does (integers of any size included), and
refuses some text `json.loads` accepts: ``NaN`` and ``Infinity``, floats out of range, lone
surrogates, a byte-order mark, UTF-16 and UTF-32, nesting past its depth limit. Any text it
refuses goes to `json.loads`, so the result, or the error, is always the standard library's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_fast_decode: Callable[[bytes | str], Any] | None
try:
    import msgspec
except ImportError:  # pragma: no cover - the project's own environments install it
    _fast_decode = None
    _REFUSED: tuple[type[BaseException], ...] = ()
else:
    _fast_decode = msgspec.json.Decoder().decode
    _REFUSED = (msgspec.DecodeError, RecursionError)


_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
"""`json.dumps` with these options, made once: `dumps` makes an encoder per call."""


def encode_compact(value: object) -> str:
    """Return `value` as JSON text without spaces, refusing NaN and the infinities.

    Raises:
        TypeError: `value` holds something JSON has no form for.
        ValueError: `value` holds NaN or an infinity.
        RecursionError: `value` nests deeper than the interpreter's recursion limit allows.
    """
    return _COMPACT.encode(value)


def decode_json(text: bytes | str) -> Any:
    """Return what JSON `text` encodes, as `json.loads` does.

    Raises:
        ValueError: `text` is not JSON (`json.JSONDecodeError`, or `UnicodeDecodeError`).
        RecursionError: `text` nests deeper than the interpreter's recursion limit allows.
    """
    if _fast_decode is not None:
        try:
            return _fast_decode(text)
        except _REFUSED:
            pass
    return json.loads(text)
