"""Event streams: one page (`get_events`), or every page in turn (`EventsPager`)."""

from __future__ import annotations

from typing import Any

import attrs

from ._backend import fetch_events, fetch_record
from ._config import ClientConfig
from ._effects import Now, Protocol, Sleep
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
    without a continuation token. With `follow` it keeps reading until the job has ended and the
    stream is drained. Pages with events are read one after another; while the stream is quiet,
    reads are spaced by the client's `PollPolicy` as `wait` spaces its polls, on two clocks:
    - the events: the first sleep is `poll_interval_s`, the next ones grow with the time the
      stream has been quiet (by default a fifth of it, at most 45 s), and a page with events
      starts again from `poll_interval_s`. An event is read at most that interval after it was
      written: by default ``max(poll_interval_s, quiet time / 5)``, at most 45 s.
    - the job's record, which alone says that the job ended: on `wait`'s schedule counted from
      the start of following, each read made on the last quiet round before it falls due. The
      end is seen as promptly as `wait` sees it (by default within a fifth of the time
      followed), and a stream with events now and then costs about as many record reads as a
      `wait`, not one per pause. One more events read after the end drains what the job wrote
      before it ended.
    A quiet hour costs about 210 requests, where reading both every 0.5 s costs about 14,400.

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
    _quiet_since: float | None = None
    """When the current quiet stretch began (its first empty read); None while events come."""
    _interval: float = 0.0
    """The sleep after the current quiet round."""
    _followed_since: float | None = None
    """When following began (the first empty read); the record's polls count from there."""
    _record_due: float | None = None
    """When the record is next read; None before the first quiet round."""
    _record_interval: float = 0.0
    """The time between record reads, as between the polls of a `wait` begun at
    `_followed_since`."""

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

        `poll_interval_s` is the first sleep of each quiet stretch while following (see the
        class docstring for the next ones).

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
                self._quiet_since = None
                return page
            if token is None or not self.follow or self._job_ended:
                self.finished = True
                return None
            yield from self._quiet_round()
        return None

    def _quiet_round(self) -> Protocol[None]:
        """Return the protocol of a round that found no new event while following.

        It reads the record if its read falls due before the next events read (marking the job
        ended, without sleeping, when it has), then sleeps until that events read. Two clocks
        space the reads, both on the client's polling policy: the events reads count from the
        start of the quiet stretch, so a new event is read promptly however long the job has
        run; the record reads from the start of following, as `wait` polls, so the end is seen as
        promptly as `wait` sees it, and a stream with events now and then does not make the
        record be read at every pause.
        """
        now = yield Now()
        if self._followed_since is None:
            self._followed_since = now
        if self._quiet_since is None:
            self._quiet_since, self._interval = now, self.poll_interval_s
        delay = self._interval
        # Early rather than late: the next chance to read the record is the next quiet round.
        if self._record_due is None or self._record_due < now + delay:
            record = yield from fetch_record(self.config, self.kind, self.job_id)
            if record is None or record.job.is_terminal:
                # One more read drains what the job wrote before it ended.
                self._job_ended = True
                return
            self._record_interval = (
                self.poll_interval_s
                if self._record_due is None
                else self.config.polling.next_interval(
                    self._record_interval, now - self._followed_since
                )
            )
            self._record_due = now + self._record_interval
        CORE_LOGGER.debug(
            "events %s %s: no new event for %.2fs; next read in %.2fs",
            self.kind.label,
            self.job_id,
            now - self._quiet_since,
            delay,
        )
        yield Sleep(delay)
        # Quiet time at the next read, as `wait` counts the time waited at its next poll.
        self._interval = self.config.polling.next_interval(delay, now + delay - self._quiet_since)
