"""Following an event stream on simulated time: what it costs, and how late it reads.

The real pager runs against a job whose events are written at given times and which ends at a
given time; the clock moves only when the pager sleeps (or by a fixed latency per request), so
every figure is exact and repeatable. The stream always answers with a continuation token, as a
service may: only the job's record tells the pager that the job ended.

The bounds, with the default policy (a fifth of the time, from `poll_interval_s` = 0.5 s up to
45 s), follow from how the policy spaces reads: the sleep after a read is at most a fifth of the
time counted at that read, which came before what the next read finds.
- An event written after q seconds of quiet (counted from the read that last brought events) is
  read at most ``max(0.5, min(45, q / 5))`` later: within a fifth of the quiet time once it is
  over 2.5 s, however long the job has run.
- The end of a job followed for t seconds is seen at most ``max(0.5, min(45, t / 5))`` late, as
  `wait` sees it, since the record is read on `wait`'s schedule (never later than it falls due).
- A quiet hour costs about 210 requests where fixed 0.5 s polling with a record read per round,
  as following did before, costs 14,403: the tests ask for at most 1/50 of that, and 1/3 from a
  minute on. On a stream with events now and then, the record is read about as often as `wait`
  polls, not at every pause.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest

import jobs_core as core
from jobs_core import ClientConfig, HttpRequest, PollPolicy, ReasonerType, Sleep
from tests.core.replies import ok, txn_json
from tests.core.simulated_service import SimJob, SimulatedService
from tests.core.simulated_time import SimulatedTime

FIRST_INTERVAL_S = 0.5
DEFAULT = ClientConfig(http=True)
FIXED = ClientConfig(http=True, polling=PollPolicy(factor=1.0, fraction=0.0))
PAGE_SIZE = 10
HOUR = 3600.0
QUIET_TIMES = [0.1 * 36_000 ** (i / 200) for i in range(201)]
"""From 0.1 s to 1 h, log-spaced."""


def longest_sleep(quiet: float, policy: PollPolicy = DEFAULT.polling) -> float:
    """The longest sleep after a read made `quiet` seconds into a quiet stretch."""
    return max(FIRST_INTERVAL_S, min(policy.max_interval_s, policy.fraction * quiet))


def before(duration: float) -> int:
    """Requests of following a quiet stream for `duration` s as it was done before: an events
    read and a record read every 0.5 s (at 0, 0.5, ... up to the end), then the drain read."""
    return 2 * (math.ceil(duration / FIRST_INTERVAL_S) + 1) + 1


@attrs.frozen
class Call:
    what: str
    at: float
    ended: bool = False
    """For a record read: whether it showed the job ended."""


class FollowedStream(SimulatedTime):
    """A job writing event i at `written[i]` and ending at `ends_at`; each request takes
    `latency` seconds, answered as of when it was sent."""

    def __init__(self, written: list[float], ends_at: float, latency: float = 0.0) -> None:
        super().__init__()
        assert written == sorted(written)
        assert all(t <= ends_at for t in written)
        self.written = written
        self.ends_at = ends_at
        self.latency = latency
        self.calls: list[Call] = []
        self.seen: dict[int, float] = {}
        """When each event was first read."""
        self.naps: list[tuple[float, float]] = []
        """When each sleep started, and how long it was."""

    def answer(self, effect: Any) -> Any:
        if isinstance(effect, Sleep):
            self.naps.append((self.clock, effect.seconds))
        return super().answer(effect)

    def answer_request(self, effect: Any) -> Any:
        assert isinstance(effect, HttpRequest), effect
        assert len(self.calls) < 50_000, "following never ended"
        now = self.clock
        self.clock += self.latency
        url = urlsplit(effect.target)
        if "/events/" not in url.path:
            ended = now >= self.ends_at
            self.calls.append(Call("record", now, ended))
            return ok(txn_json(state="COMPLETED" if ended else "RUNNING"))
        self.calls.append(Call("events", now))
        start = int(parse_qs(url.query).get("continuation_token", ["0"])[0] or "0")
        ready = [i for i, t in enumerate(self.written) if i >= start and t <= now][:PAGE_SIZE]
        for i in ready:
            self.seen.setdefault(i, now)
        token = str(start + len(ready))
        return ok({"events": [{"i": i} for i in ready], "continuation_token": token})

    def count(self, what: str) -> int:
        return sum(1 for call in self.calls if call.what == what)

    @property
    def end_seen_at(self) -> float:
        return next(call.at for call in self.calls if call.ended)


def follow(
    written: list[float], ends_at: float, config: ClientConfig = DEFAULT, latency: float = 0.0
) -> FollowedStream:
    """Follow the stream to its end; check that every event was read once, in order."""
    stream = FollowedStream(written, ends_at, latency)
    pager = core.EventsPager.open(
        config, "Logic", "t1", follow=True, poll_interval_s=FIRST_INTERVAL_S
    )
    events = []
    while (event := stream.run(pager.next_event())) is not None:
        events.append(event["i"])
    assert events == list(range(len(written)))
    assert pager.finished
    return stream


def test_a_quiet_hour_costs_under_a_fiftieth_of_fixed_polling() -> None:
    stream = follow([0.0], HOUR)
    assert len(stream.calls) <= before(HOUR) / 50
    assert stream.count("record") <= stream.count("events")


def test_quiet_streams_of_a_minute_and_more_cost_under_a_third_of_fixed_polling() -> None:
    for duration in (d for d in QUIET_TIMES if d >= 60):
        assert len(follow([0.0], duration).calls) <= before(duration) / 3, duration


@pytest.mark.parametrize("every", [5.0, 30.0, 300.0])
def test_events_now_and_then_read_the_record_about_as_often_as_wait_polls(every: float) -> None:
    """Not at every pause between events, as before: a record read comes on a quiet round before
    it falls due, so somewhat more often than `wait` polls, never more than a quarter more."""
    service = SimulatedService([SimJob(ReasonerType.LOGIC, "t1", ends_at=HOUR)])
    service.run(core.wait(DEFAULT, "Logic", "t1", timeout_s=2 * HOUR, poll_interval_s=0.5))
    stream = follow([every * i for i in range(int(HOUR / every))], HOUR)
    assert stream.count("record") <= 1.25 * service.count("get")
    assert stream.end_seen_at - HOUR <= longest_sleep(HOUR)


def test_the_clients_polling_policy_spaces_the_reads() -> None:
    """With a fixed policy every sleep is `poll_interval_s`, as following did before."""
    stream = follow([0.0], 60.0, FIXED)
    assert {seconds for _, seconds in stream.naps} == {FIRST_INTERVAL_S}
    assert len(stream.calls) == before(60.0) + 1  # and the read that brought the event


@pytest.mark.parametrize("burst_at", [0.0, 100.0])
def test_an_event_after_quiet_is_read_within_a_fifth_of_the_quiet_time(burst_at: float) -> None:
    burst = [0.0] + [burst_at] * 12  # two pages
    # When the pager reads the burst does not depend on what comes after it.
    burst_read = follow(burst, burst_at + 1).seen[len(burst) - 1]
    for quiet in QUIET_TIMES:
        stream = follow([*burst, burst_read + quiet], burst_read + 2 * quiet + 60)
        late = stream.seen[len(burst)] - (burst_read + quiet)
        assert late <= longest_sleep(quiet), (quiet, late)
        if quiet >= 2.5:
            assert late <= quiet / 5


@pytest.mark.parametrize(
    ("config", "longest"), [(DEFAULT, HOUR), (FIXED, 60.0)], ids=["default", "fixed"]
)
def test_the_end_is_seen_as_promptly_as_wait_sees_it_then_drained(
    config: ClientConfig, longest: float
) -> None:
    for duration in (d for d in QUIET_TIMES if d <= longest):
        stream = follow([0.0], duration, config)
        assert stream.end_seen_at - duration <= longest_sleep(duration, config.polling), duration
        # Nothing after the read that saw the end but the drain, at once.
        *_, ended, drain = stream.calls
        assert (ended.what, ended.ended, drain.what, drain.at) == (
            "record",
            True,
            "events",
            ended.at,
        )


def test_a_burst_after_quiet_starts_again_at_the_first_interval() -> None:
    written = [0.0] + [600.0] * 25
    stream = follow(written, 700.0)
    burst_read = stream.seen[1]
    naps_before = [seconds for start, seconds in stream.naps if start < burst_read]
    naps_after = [seconds for start, seconds in stream.naps if start >= burst_read]
    assert naps_before[-1] == DEFAULT.polling.max_interval_s
    # The burst's three pages are read one after another (no sleep), then the sleeps start
    # again from the first interval and grow with the new quiet time.
    assert [stream.seen[i] for i in range(1, 26)] == [burst_read] * 25
    assert naps_after[:5] == [FIRST_INTERVAL_S] * 5
    assert naps_after == sorted(naps_after)
    assert naps_after[-1] > FIRST_INTERVAL_S


def test_events_written_just_before_the_end_are_drained() -> None:
    """The job writes its last event and ends between an events read and the record read that
    sees the end: the drain read right after that record read brings it."""
    latency = 0.01
    drained = 0
    for step in range(1600):  # ends from 4 s to 8 s: the record is read at 4.5 and 6.5 s
        ends_at = 4.0 + step * latency / 4
        stream = follow([0.0, ends_at - latency / 2], ends_at, latency=latency)
        ended = next(i for i, call in enumerate(stream.calls) if call.ended)
        assert {call.what for call in stream.calls[ended + 1 :]} == {"events"}
        drained += stream.seen[1] == stream.calls[ended + 1].at
    assert drained > 0


def test_following_an_ended_job_reads_its_record_at_once() -> None:
    stream = follow([0.0, 0.0], 0.0)
    assert [call.what for call in stream.calls] == ["events", "events", "record", "events"]
    assert stream.naps == []
