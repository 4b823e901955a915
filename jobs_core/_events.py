"""Event streams: one page (`get_events`), or every page in turn (`EventsPager`)."""

from __future__ import annotations

import attrs

from ._backend import fetch_events, fetch_record
from ._config import ClientConfig
from ._effects import Protocol, Sleep
from ._models import JobEvents
from ._reasoners import ReasonerType, parse_reasoner_type
from ._validation import require_bool, require_positive, require_string, require_text

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
    job_id = require_text("job_id", job_id)
    token = require_string("continuation_token", continuation_token)
    stream = require_text("stream_name", require_string("stream_name", stream_name))
    return fetch_events(config, kind, job_id, token, stream)


@attrs.define
class EventsPager:
    """Walks an event stream page by page, from `continuation_token` on.

    Without `follow` it stops at the end of what the stream holds now: an empty page, or a page
    without a continuation token. With `follow` it keeps reading (sleeping `poll_interval_s`
    between empty pages) until the job has ended and the stream is drained.

    `continuation_token` is always where the next page starts, so a new pager built with it
    resumes exactly after the last page this one returned; it becomes None once the stream has
    ended (a page came back without a token): there is nothing left to resume.
    """

    config: ClientConfig
    kind: ReasonerType
    job_id: str
    continuation_token: str | None = ""
    stream_name: str = DEFAULT_STREAM
    follow: bool = False
    poll_interval_s: float = 0.5
    finished: bool = False
    _job_ended: bool = False

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
        poll_interval_s: float = 0.5,
    ) -> EventsPager:
        """Return a pager after checking its arguments; a None token is an ended stream.

        Raises:
            JobInvalidRequestError: a bad argument.
        """
        pager = cls(
            config=config,
            kind=parse_reasoner_type(reasoner_type),
            job_id=require_text("job_id", job_id),
            continuation_token=(
                None
                if continuation_token is None
                else require_string("continuation_token", continuation_token)
            ),
            stream_name=require_text("stream_name", require_string("stream_name", stream_name)),
            follow=require_bool("follow", follow),
            poll_interval_s=require_positive("poll_interval_s", poll_interval_s),
        )
        # Build (and so check) the first read now: a bad stream fails before any I/O.
        fetch_events(config, pager.kind, pager.job_id, "", pager.stream_name)
        return pager

    def next_page(self) -> Protocol[JobEvents | None]:
        """Return the protocol that reads the next non-empty page, or None at the end."""
        while not self.finished and self.continuation_token is not None:
            page = yield from fetch_events(
                self.config, self.kind, self.job_id, self.continuation_token, self.stream_name
            )
            token = page.continuation_token or None
            self.continuation_token = token
            if page.events:
                self.finished = token is None
                return page
            if token is None or not self.follow or self._job_ended:
                self.finished = True
                return None
            record = yield from fetch_record(self.config, self.kind, self.job_id)
            if record is None or record.to_job().is_terminal:
                # One more read drains what the job wrote before it ended.
                self._job_ended = True
                continue
            yield Sleep(self.poll_interval_s)
        return None
