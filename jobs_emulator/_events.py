"""Progress events and the paging of an event stream behind opaque continuation tokens.

A token encodes the record id and the offset of the next event (base64url, so clients treat it as
opaque). The empty token and `"0"` mean "from the start". A page holds at most `page_size` events;
its `continuation_token` is the token for the next read, or `None` once the record is terminal and
the reader has every event.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import attrs

from jobs_emulator._errors import InvalidRequest
from jobs_emulator._timestamps import to_iso

STREAMS = ("progress",)
"""The only stream the emulator has, as in the real service's SQL API."""

_START_TOKENS = ("", "0")


@attrs.frozen
class EventPage:
    """One read of an event stream."""

    events: list[dict[str, Any]]
    continuation_token: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the wire shape `{"events": [...], "continuation_token": T}`."""
        return {"events": self.events, "continuation_token": self.continuation_token}


def progress_event(index: int, total: int, at: float) -> dict[str, Any]:
    """Return the progress event number `index` (1-based) of `total`, emitted at `at` (POSIX s)."""
    return {
        "type": "progress",
        "index": index,
        "message": f"step {index} of {total}",
        "progress": index / total,
        "timestamp": to_iso(at),
    }


def encode_token(record_id: str, offset: int) -> str:
    """Return the opaque token for reading `record_id`'s stream from event number `offset`."""
    return base64.urlsafe_b64encode(f"{record_id}:{offset}".encode()).decode().rstrip("=")


def decode_token(record_id: str, token: str | None) -> int:
    """Return the offset a token points at; empty, `None` and `"0"` mean 0.

    Raise `InvalidRequest` when the token is not one of ours or belongs to another record.
    """
    if token is None or token in _START_TOKENS:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        owner, _, offset = text.rpartition(":")
        position = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest(f"invalid continuation_token {token!r}") from None
    if owner != record_id or position < 0:
        raise InvalidRequest(f"continuation_token {token!r} does not belong to {record_id}")
    return position


def read_page(
    record_id: str,
    emitted: int,
    event: Callable[[int], dict[str, Any]],
    token: str | None,
    *,
    page_size: int,
    finished: bool,
) -> EventPage:
    """Return the page that `token` points at of a stream whose first `emitted` events are out.

    `event(i)` makes event number `i` (1-based); only the page's events are made, so a page costs
    the same however long the stream. `finished` says no more events will come, so a reader that
    reaches the end gets a `None` token.
    Raise `InvalidRequest` for a token that is not ours or points past the events emitted.
    """
    start = decode_token(record_id, token)
    if start > emitted:
        raise InvalidRequest(f"continuation_token {token!r} points past the end of the stream")
    end = min(start + page_size, emitted)
    done = finished and end == emitted
    page = [event(index) for index in range(start + 1, end + 1)]
    return EventPage(page, None if done else encode_token(record_id, end))
