"""Event streams: one page (`get_events`), or every page in turn (`EventsPager`)."""

from __future__ import annotations

from typing import Any

import attrs

from ._backend import fetch_events, fetch_record
from ._config import ClientConfig
from ._effects import Protocol, Sleep
from ._logs import CORE_LOGGER
from ._models import JobEvents
from ._reasoners import ReasonerType, parse_reasoner_type
from ._validation import require_bool, require_positive, require_segment, require_string
from ._wait import DEFAULT_POLL_INTERVAL_S, MAX_POLL_INTERVAL_S

DEFAULT_STREAM = "progress"


def get_events(
    config: ClientConfig,
    reasoner_type: str,
    job_id: str,
    continuation_token: str = "",
    *,
    stream_name: str = DEFAULT_STREAM,
) -> Protocol[JobEvents]:
    """Return the protocol of `JobsClient.get_events`: one page of the stream.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument, or a stream the backend does not have.
    """
    kind = parse_reasoner_type(reasoner_type)
    job_id = require_segment("job_id", job_id)
    token = require_string("continuation_token", continuation_token)
    stream = require_segment("stream_name", require_string("stream_name", stream_name))
    return fetch_events(config, kind, job_id, token, stream)


@attrs.define
class EventsPager:
    """Walks an event stream event by event, reading it page by page from `continuation_token`.

    Without `follow` it stops at the end of what the stream holds now: an empty page, or a page
    without a continuation token. With `follow` it keeps reading (sleeping `poll_interval_s`
    between empty pages) until the job has ended and the stream is drained.

    `continuation_token` is where a new pager resumes so that no event is lost: the token the
    page being read was read with while some of its events are still unread, else the start of
    the next page; None once the stream has ended (a page came back without a token).

    A page that comes back with the token it was read with is read again from that token. When
    that read returns the very same events, the service is not moving on: the repeat counts as
    no new event (it ends the stream, or with `follow` is polled until the job ends), where
    reading on would hand out the same events forever. A token that stays the same while the
    events change (a server-side cursor) is read on.
    """

    config: ClientConfig
    kind: ReasonerType
    job_id: str
    next_token: str | None = ""
    """Where the next page starts; None once the stream has ended."""
    stream_name: str = DEFAULT_STREAM
    follow: bool = False
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    finished: bool = False
    _job_ended: bool = False
    _unread: list[dict[str, Any]] = attrs.field(factory=list)
    _page_token: str | None = None
    """The token the page being read was read with."""
    _last_page: tuple[str, list[dict[str, Any]]] | None = None
    """The token and events of the last page that had events."""

    @classmethod
    def open(
        cls,
        config: ClientConfig,
        reasoner_type: str,
        job_id: str,
        continuation_token: str | None = "",
        *,
        stream_name: str = DEFAULT_STREAM,
        follow: bool = False,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    ) -> EventsPager:
        """Return a pager after checking its arguments; a None token is an ended stream.

        Raises:
            JobInvalidRequestError: a bad argument (`poll_interval_s` outside (0, 20), as for
                `wait`).
        """
        pager = cls(
            config=config,
            kind=parse_reasoner_type(reasoner_type),
            job_id=require_segment("job_id", job_id),
            next_token=(
                None
                if continuation_token is None
                else require_string("continuation_token", continuation_token)
            ),
            stream_name=require_segment("stream_name", require_string("stream_name", stream_name)),
            follow=require_bool("follow", follow),
            poll_interval_s=require_positive(
                "poll_interval_s", poll_interval_s, below=MAX_POLL_INTERVAL_S
            ),
        )
        # Build (and so check) the first read now: a bad stream fails before any I/O.
        fetch_events(config, pager.kind, pager.job_id, "", pager.stream_name)
        return pager

    def __str__(self) -> str:
        """Return which stream the pager reads, for an event iterator's `repr`."""
        text = f"{self.kind.label} {self.job_id!r} stream {self.stream_name!r}"
        if self.follow:
            text += ", following"
        return text + (", ended" if self.finished else "")

    @property
    def continuation_token(self) -> str | None:
        """Where a new pager resumes (see the class docstring)."""
        return self._page_token if self._unread else self.next_token

    def next_event(self) -> Protocol[dict[str, Any] | None]:
        """Return the protocol that returns the next event, or None at the end of the stream.

        An event of the page being read comes back without any effect.
        """
        if not self._unread:
            page = yield from self.next_page()
            if page is None:
                return None
            self._unread = list(page.events)
        return self._unread.pop(0)

    def next_page(self) -> Protocol[JobEvents | None]:
        """Return the protocol that reads the next non-empty page, or None at the end."""
        while not self.finished and self.next_token is not None:
            sent = self.next_token
            page = yield from fetch_events(
                self.config, self.kind, self.job_id, sent, self.stream_name
            )
            token = page.continuation_token or None
            self.next_token = token
            if token == sent and page.events and self._last_page == (sent, page.events):
                CORE_LOGGER.debug(
                    "events %s %s: token %r brought the same page again; no new event",
                    self.kind.label,
                    self.job_id,
                    sent,
                )
            elif page.events:
                self.finished = token is None
                self._page_token = sent
                self._last_page = (sent, page.events)
                return page
            if token is None or not self.follow or self._job_ended:
                self.finished = True
                return None
            record = yield from fetch_record(self.config, self.kind, self.job_id)
            if record is None or record.job.is_terminal:
                # One more read drains what the job wrote before it ended.
                self._job_ended = True
                continue
            CORE_LOGGER.debug(
                "events %s %s: no new event; next read in %.2fs",
                self.kind.label,
                self.job_id,
                self.poll_interval_s,
            )
            yield Sleep(self.poll_interval_s)
        return None
