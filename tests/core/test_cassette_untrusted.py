"""Cassettes are untrusted input: replaying an edited or corrupted one fails only with
`CassetteError`, naming the line, never with whatever Python error the damage happens to cause.

The cassettes are real recordings: `jobs_core.recorded` run against an in-memory backend (HTTP and
SQL), with transient failures recorded too, then corrupted byte by byte, line by line and value by
value.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jobs_core as core
from jobs_core import (
    Cassette,
    CassetteError,
    ClientConfig,
    Gather,
    HttpRequest,
    JobError,
    Now,
    Replayer,
    Sleep,
    SqlFailure,
    SqlQuery,
    SqlRows,
    TransportError,
    recorded,
)
from jobs_core._cassette import header_line, redact_line, to_text
from jobs_core._effects import ANSWERS
from tests.core.replies import ok, response, txn_json, txn_row

CONFIGS = {
    "http": ClientConfig(http=True, seed=7),
    "sql": ClientConfig(sql=True, app="APP", seed=7),
}
LOGIC_PAYLOAD = {"database": "db", "query": "q"}
EVERYTHING = {"events": True, "artifacts": True, "problems": True, "details": True, "raw": True}
EVENTS = '{"events": [{"i": 1}], "continuation_token": "5"}'


def calls(config: ClientConfig) -> list[core.Protocol[Any]]:
    """The calls every cassette here records: each kind of call, a wait over several polls."""
    return [
        core.create(config, "Logic", "e1", LOGIC_PAYLOAD),
        core.get(config, "Logic", "t1", include=EVERYTHING),
        core.wait(config, "Logic", "t1", timeout_s=30, poll_interval_s=1),
        core.list_jobs(config, "Logic", limit=5),
        core.get_events(config, "Logic", "t1"),
        core.cancel(config, "Logic", "t1"),
    ]


class Backend:
    """Answers requests like the service would; the first reads fail, so failures are recorded."""

    def __init__(self) -> None:
        self.clock = 100.0
        self.http_failures: list[Any] = [
            response(503, {"message": "busy"}, (("Retry-After", "1"),)),
            TransportError("connection reset", request_sent=True),
        ]
        self.sql_failures = [SqlFailure("connection lost", connection_lost=True)]
        self.states = iter(["RUNNING", "RUNNING", "RUNNING"])

    def state(self) -> str:
        return next(self.states, "COMPLETED")

    def answer(self, effect: HttpRequest | SqlQuery) -> Any:
        if isinstance(effect, SqlQuery):
            return self._sql(effect)
        target = effect.target
        if effect.method == "POST":
            return ok({"id": "t1"} if target.endswith("graph_index=false") else {})
        if target.endswith("/t1"):
            if self.http_failures:
                return self.http_failures.pop(0)
            return ok(txn_json("t1", state=self.state()))
        if "/events/" in target:
            return ok(json.loads(EVENTS))
        if target.endswith("/artifacts"):
            return ok({"results": [{"filename": "a.csv", "size": 3}]})
        if target.endswith("/problems"):
            return ok({"problems": []})
        return ok({"transactions": [txn_json("t1"), txn_json("t2")]})

    def _sql(self, query: SqlQuery) -> Any:
        operation = query.operation
        if operation == "get" and self.sql_failures:
            return self.sql_failures.pop()
        if operation in ("get", "list"):
            return txn_row("t1", state=self.state() if operation == "get" else "RUNNING")
        answers = {
            "create": SqlRows(("ID",), (("t1",),)),
            "events": SqlRows(("V",), ((EVENTS,),)),
            "artifacts": SqlRows(("A",), (('{"filename": "a.csv"}',),)),
            "problems": SqlRows(("P",), (("x",),)),
        }
        return answers.get(operation, SqlRows())

    def run(self, protocol: core.Protocol[Any]) -> Any:
        try:
            effect = next(protocol)
            for _ in range(1_000):
                if isinstance(effect, Now):
                    reply: Any = self.clock
                elif isinstance(effect, Sleep):
                    self.clock += effect.seconds
                    reply = None
                elif isinstance(effect, Gather):
                    reply = [
                        _outcome(functools.partial(self.run, child)) for child in effect.protocols
                    ]
                else:
                    assert isinstance(effect, HttpRequest | SqlQuery)
                    reply = self.answer(effect)
                if isinstance(reply, Exception):
                    effect = protocol.throw(reply)
                else:
                    effect = protocol.send(reply)
            raise AssertionError("the protocol never ended")
        except StopIteration as stop:
            return stop.value


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except CassetteError:
        raise
    except JobError as exc:
        return exc


def _comparable(outcome: Any) -> Any:
    return (type(outcome).__name__, str(outcome)) if isinstance(outcome, JobError) else outcome


def record(config: ClientConfig) -> tuple[list[str], list[Any]]:
    """Return a cassette of `calls(config)` as lines of text, and what each call gave."""
    lines = [to_text(header_line(config))]
    backend = Backend()
    outcomes = []
    for number, protocol in enumerate(calls(config)):
        wrapped = recorded(
            protocol, lambda line: lines.append(to_text(redact_line(line))), str(number)
        )
        outcomes.append(_comparable(_outcome(functools.partial(backend.run, wrapped))))
    return lines, outcomes


RECORDINGS = {name: record(config) for name, config in CONFIGS.items()}


def replay(lines: list[str] | list[bytes]) -> list[Any]:
    """Replay `calls` from `lines`; return what each call gave (errors as type and text)."""
    replayer = Replayer(Cassette.parse(lines, name="fuzzed"))
    outcomes = [
        _comparable(_outcome(functools.partial(replayer.run, protocol)))
        for protocol in calls(replayer.cassette.config)
    ]
    replayer.finish()
    return outcomes


@pytest.mark.parametrize("backend", sorted(RECORDINGS))
def test_an_untouched_recording_replays_exactly(backend: str) -> None:
    lines, outcomes = RECORDINGS[backend]
    assert any('"failure"' in line for line in lines)  # so the fuzzing below damages failures too
    assert replay(lines) == outcomes
    assert outcomes[2].state == "COMPLETED"  # the wait polled until the job ended


def _line_of(lines: list[str], predicate: Callable[[dict[str, Any]], bool]) -> int:
    return next(i for i, text in enumerate(lines) if i and predicate(json.loads(text)))


def _edit(lines: list[str], index: int, **changes: Any) -> list[str]:
    line = {**json.loads(lines[index]), **changes}
    return [*lines[:index], json.dumps(line) + "\n", *lines[index + 1 :]]


def _is(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda line: line["effect"]["type"] == kind and "reply" in line


HTTP_LINES = RECORDINGS["http"][0]
SQL_LINES = RECORDINGS["sql"][0]
REQUEST = _line_of(HTTP_LINES, _is("HttpRequest"))
QUERY = _line_of(SQL_LINES, _is("SqlQuery"))
NOW = _line_of(HTTP_LINES, _is("Now"))
SLEEP = _line_of(HTTP_LINES, _is("Sleep"))
DEEP = "[" * 100_000 + "]" * 100_000
A_RESPONSE = json.loads(HTTP_LINES[REQUEST])["reply"]
SOME_ROWS = json.loads(SQL_LINES[QUERY])["reply"]


def _deep_header(lines: list[str]) -> list[str]:
    return [DEEP + "\n", *lines[1:]]


def _header_config(value: Any) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        header = {**json.loads(lines[0]), "config": value}
        return [json.dumps(header) + "\n", *lines[1:]]

    return edit


DAMAGE: dict[str, tuple[list[str], Callable[[list[str]], Any], int]] = {
    "invalid UTF-8": (
        HTTP_LINES,
        lambda lines: [
            t.encode() if i != 2 else b"\xff\xfe" + t.encode() for i, t in enumerate(lines)
        ],
        3,
    ),
    "a line 100,000 [ deep": (HTTP_LINES, lambda lines: [*lines[:2], DEEP + "\n", *lines[3:]], 3),
    "a header 100,000 [ deep": (HTTP_LINES, _deep_header, 1),
    "config a list": (HTTP_LINES, _header_config([1, 2]), 1),
    "config a string": (HTTP_LINES, _header_config("http"), 1),
    "config with a huge number": (HTTP_LINES, _header_config({"http": True, "seed": 1e400}), 1),
    "config that does not validate": (HTTP_LINES, _header_config({"http": False}), 1),
    # A value of another JSON type is refused, not converted: bool("false") is True.
    "config with a switch as text": (HTTP_LINES, _header_config({"http": "false"}), 1),
    "config with null for a switch": (
        HTTP_LINES,
        _header_config({"http": True, "logic_over_http": None}),
        1,
    ),
    "config with a seed as text": (HTTP_LINES, _header_config({"http": True, "seed": "7"}), 1),
    "config with a delay as text": (
        HTTP_LINES,
        _header_config({"http": True, "retry": {"jitter": "0.2"}}),
        1,
    ),
    "a status as text": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, reply={**A_RESPONSE, "status": "200"}),
        REQUEST + 1,
    ),
    "a status as a bool": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, reply={**A_RESPONSE, "status": True}),
        REQUEST + 1,
    ),
    "a failure's flag as text": (
        HTTP_LINES,
        lambda lines: _edit(
            lines,
            REQUEST,
            failure={
                "type": "TransportError",
                "message": "x",
                "request_sent": "false",
                "timeout": False,
            },
        ),
        REQUEST + 1,
    ),
    "NaN where a time was": (
        HTTP_LINES,
        lambda lines: [
            *lines[:NOW],
            lines[NOW].replace(f'"reply": {json.loads(lines[NOW])["reply"]}', '"reply": NaN'),
            *lines[NOW + 1 :],
        ],
        NOW + 1,
    ),
    "a number answering a request": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, reply=5),
        REQUEST + 1,
    ),
    "null answering a request": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, reply=None),
        REQUEST + 1,
    ),
    "SQL rows answering a request": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, reply=SOME_ROWS),
        REQUEST + 1,
    ),
    "a response answering a query": (
        SQL_LINES,
        lambda lines: _edit(lines, QUERY, reply=A_RESPONSE),
        QUERY + 1,
    ),
    "a response answering Now": (
        HTTP_LINES,
        lambda lines: _edit(lines, NOW, reply=A_RESPONSE),
        NOW + 1,
    ),
    "a huge time": (HTTP_LINES, lambda lines: _edit(lines, NOW, reply=10**400), NOW + 1),
    "a reply to a sleep": (HTTP_LINES, lambda lines: _edit(lines, SLEEP, reply=1.5), SLEEP + 1),
    "a failure of Now": (
        HTTP_LINES,
        lambda lines: _edit(
            lines,
            NOW,
            failure={
                "type": "TransportError",
                "message": "x",
                "request_sent": True,
                "timeout": False,
            },
        ),
        NOW + 1,
    ),
    "a SQL failure of a request": (
        HTTP_LINES,
        lambda lines: _edit(
            lines,
            REQUEST,
            failure={
                "type": "SqlFailure",
                "message": "x",
                "errno": None,
                "sqlstate": None,
                "connection_lost": True,
            },
        ),
        REQUEST + 1,
    ),
    "a failure that is a list": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, failure=[1]),
        REQUEST + 1,
    ),
    "a status of 1e400": (
        HTTP_LINES,
        lambda lines: _edit(lines, REQUEST, reply={**A_RESPONSE, "status": 1e400}),
        REQUEST + 1,
    ),
    "the last line cut short": (
        HTTP_LINES,
        lambda lines: [*lines[:-1], lines[-1][:30]],
        len(HTTP_LINES),
    ),
    "the last line missing": (HTTP_LINES, lambda lines: lines[:-1], len(HTTP_LINES) - 1),
    "an empty file": (HTTP_LINES, lambda lines: [], 1),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damage_is_a_cassette_error_naming_the_line(damage: str) -> None:
    lines, edit, line = DAMAGE[damage]
    with pytest.raises(CassetteError, match=rf"\bline {line}\b"):
        replay(edit(list(lines)))


# --- the fuzzer -----------------------------------------------------------------------------------

JUNK_VALUES = st.one_of(
    st.sampled_from(
        [None, True, 0, -1, 1e308, 10**30, "", "x", [], {}, [[[]]], A_RESPONSE, SOME_ROWS]
    ),
    st.text(max_size=10),
    st.integers(),
    st.floats(allow_nan=False),
)


def _replace_somewhere(value: Any, path: list[int], junk: Any) -> Any:
    """Return `value` with the part `path` leads to (each step picks a key or item) replaced."""
    if not path or not isinstance(value, dict | list) or not value:
        return junk
    step, rest = path[0], path[1:]
    if isinstance(value, dict):
        key = sorted(value)[step % len(value)]
        return {**value, key: _replace_somewhere(value[key], rest, junk)}
    index = step % len(value)
    return [*value[:index], _replace_somewhere(value[index], rest, junk), *value[index + 1 :]]


@st.composite
def damaged(draw: st.DrawFn) -> list[str] | list[bytes]:
    lines = list(RECORDINGS[draw(st.sampled_from(sorted(RECORDINGS)))][0])
    index = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["byte", "delete", "duplicate", "swap", "cut", "value", "insert"]))
    if how == "byte":
        data = bytearray("".join(lines).encode())
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data).splitlines(keepends=True)
    if how == "delete":
        return [*lines[:index], *lines[index + 1 :]]
    if how == "duplicate":
        return [*lines[: index + 1], *lines[index:]]
    if how == "swap":
        other = draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
        return lines
    if how == "cut":
        text = lines[index]
        return [*lines[:index], text[: draw(st.integers(0, len(text)))], *lines[index + 1 :]]
    if how == "insert":
        junk = json.dumps(draw(JUNK_VALUES)) + "\n"
        return [*lines[:index], junk, *lines[index:]]
    path = draw(st.lists(st.integers(0, 50), max_size=5))
    value = _replace_somewhere(json.loads(lines[index]), path, draw(JUNK_VALUES))
    return [*lines[:index], json.dumps(value) + "\n", *lines[index + 1 :]]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_a_damaged_cassette_replays_or_fails_with_a_cassette_error(lines: list[Any]) -> None:
    """Any other exception escaping (AttributeError, TypeError, RecursionError...) fails this."""
    try:
        outcomes = replay(lines)
    except CassetteError as exc:
        error = str(exc)
    else:
        # Not every edit is detectable (a changed character inside a recorded body): the calls
        # then give what the edited recording says, as the public errors of the library at worst.
        assert len(outcomes) == len(calls(CONFIGS["http"]))
        return
    assert "line " in error


def test_every_effect_says_what_may_answer_it() -> None:
    """The replayer checks recorded answers against this table: an effect missing from it could
    not be replayed."""
    assert set(get_args(core.Effect)) - {Gather} == set(ANSWERS)
