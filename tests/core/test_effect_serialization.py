"""Effects, replies and failures survive a trip through JSON text exactly."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jobs_core._effects import (
    Gather,
    HttpRequest,
    HttpResponse,
    Now,
    Protocol,
    RefreshEndpoint,
    Sleep,
    SqlFailure,
    SqlQuery,
    SqlRows,
    TransportError,
)
from jobs_core._serialization import (
    _structure,
    effect_to_json,
    failure_from_json,
    failure_to_json,
    reply_from_json,
    reply_to_json,
)

# Cassettes only ever write effects; reading them back here shows the JSON keeps everything.
EFFECTS = {cls.__name__: cls for cls in (HttpRequest, SqlQuery, Sleep, Now, RefreshEndpoint)}


def effect_from_json(value: Any) -> Any:
    """Return the effect `value` (from `effect_to_json`) describes; ValueError if none."""
    return _structure(value, EFFECTS, "effect")


def through_text(value: Any) -> Any:
    """What a cassette gives back: the value written as JSON text and read again."""
    return json.loads(json.dumps(value, allow_nan=False))


def same_cells(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Cell tuples equal value for value, type for type, offset for offset."""
    return len(a) == len(b) and all(
        type(x) is type(y)
        and (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)))
        and (not isinstance(x, dt.datetime) or x.utcoffset() == y.utcoffset())
        for x, y in zip(a, b, strict=True)
    )


offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
datetimes = st.datetimes(timezones=st.none() | st.just(dt.timezone.utc) | offsets)
values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
cells = st.one_of(values, st.decimals(allow_nan=False), datetimes, st.dates())
headers = st.lists(st.tuples(st.text(), st.text()), max_size=4).map(tuple)
deadlines = st.none() | st.floats(allow_nan=False, allow_infinity=False)
requests = st.builds(HttpRequest, st.text(), st.text(), headers, st.binary(), deadlines)
responses = st.builds(HttpResponse, st.integers(100, 599), headers, st.binary())
queries = st.builds(
    SqlQuery, st.text(), st.lists(values, max_size=6).map(tuple), st.text(), deadlines
)
rows_ = st.integers(0, 4).flatmap(
    lambda width: st.builds(
        SqlRows,
        st.lists(st.text(), min_size=width, max_size=width).map(tuple),
        st.lists(st.lists(cells, min_size=width, max_size=width).map(tuple), max_size=4).map(tuple),
    )
)
effects = st.one_of(
    requests,
    queries,
    st.builds(Sleep, st.floats(0, 1e6)),
    st.just(Now()),
    st.just(RefreshEndpoint()),
)


@given(requests)
def test_requests(effect: HttpRequest) -> None:
    assert effect_from_json(through_text(effect_to_json(effect))) == effect


@given(queries)
def test_queries(effect: SqlQuery) -> None:
    back = effect_from_json(through_text(effect_to_json(effect)))
    assert isinstance(back, SqlQuery)
    assert (back.text, back.operation, back.deadline) == (
        effect.text,
        effect.operation,
        effect.deadline,
    )
    assert same_cells(back.params, effect.params)


@given(effects)
def test_effects(effect: Any) -> None:
    encoded = effect_to_json(effect)
    assert next(iter(encoded)) == "type"
    assert encoded["type"] == type(effect).__name__
    back = effect_from_json(through_text(encoded))
    if isinstance(effect, SqlQuery):
        assert isinstance(back, SqlQuery)
        assert same_cells(back.params, effect.params)
    else:
        assert back == effect


@given(responses)
def test_responses(reply: HttpResponse) -> None:
    assert reply_from_json(through_text(reply_to_json(reply))) == reply


@given(rows_)
@example(  # an offset under a second, which `fromisoformat` alone reads as UTC
    SqlRows(("",), ((dt.datetime(2000, 1, 1, tzinfo=dt.timezone(dt.timedelta(microseconds=1))),),))
)
def test_rows(reply: SqlRows) -> None:
    back = reply_from_json(through_text(reply_to_json(reply)))
    assert isinstance(back, SqlRows)
    assert back.columns == reply.columns
    assert len(back.rows) == len(reply.rows)
    assert all(same_cells(a, b) for a, b in zip(back.rows, reply.rows, strict=True))


@given(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)))
def test_scalar_replies(reply: float | None) -> None:
    assert reply_from_json(through_text(reply_to_json(reply))) == reply


def idle() -> Protocol[None]:
    yield Now()


def test_readable_shapes() -> None:
    request = HttpRequest("POST", "/v1alpha1/jobs", (("Accept", "application/json"),), b'{"a":1}')
    assert effect_to_json(request) == {
        "type": "HttpRequest",
        "method": "POST",
        "target": "/v1alpha1/jobs",
        "headers": [["Accept", "application/json"]],
        "body": '{"a":1}',
    }
    assert effect_to_json(HttpRequest("GET", "/", (), b"\xff"))["body"] == {"$base64": "/w=="}
    when = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    assert reply_to_json(
        SqlRows(
            ("A", "B", "C", "D", "E"),
            ((when, dt.date(2024, 5, 1), decimal.Decimal("1.50"), -math.inf, 2),),
        )
    ) == {
        "type": "SqlRows",
        "columns": ["A", "B", "C", "D", "E"],
        "rows": [
            [
                {"$datetime": "2024-05-01T12:00:00+00:00"},
                {"$date": "2024-05-01"},
                {"$decimal": "1.50"},
                {"$float": "-inf"},
                2,
            ]
        ],
    }
    assert effect_to_json(Gather((idle(), idle()), 3)) == {
        "type": "Gather",
        "limit": 3,
        "count": 2,
    }
    assert effect_to_json(Now()) == {"type": "Now"}
    assert reply_to_json(12) == 12.0


def test_a_deadline_is_recorded_only_when_set_so_older_cassettes_still_match() -> None:
    assert "deadline" not in effect_to_json(HttpRequest("GET", "/x"))
    assert "deadline" not in effect_to_json(SqlQuery("select 1"))
    assert effect_to_json(HttpRequest("GET", "/x", deadline=12.5))["deadline"] == 12.5
    assert effect_to_json(SqlQuery("select 1", deadline=3.0))["deadline"] == 3.0
    old = {"type": "HttpRequest", "method": "GET", "target": "/x", "headers": [], "body": ""}
    assert effect_from_json(old) == HttpRequest("GET", "/x")


def test_a_failure_is_too_large_only_when_recorded_so_older_cassettes_still_read() -> None:
    refused = TransportError("too large", request_sent=True, too_large=True)
    assert failure_to_json(refused)["too_large"] is True
    plain = failure_to_json(TransportError("reset", request_sent=True))
    assert "too_large" not in plain
    back = failure_from_json(plain)
    assert isinstance(back, TransportError)
    assert not back.too_large
    with pytest.raises(ValueError, match="too_large"):
        failure_from_json({**plain, "too_large": "yes"})


def test_gather_results_are_not_recorded() -> None:
    with pytest.raises(TypeError):
        reply_to_json([1, 2])


@given(
    st.one_of(
        st.builds(
            TransportError,
            st.text(),
            request_sent=st.booleans(),
            timeout=st.booleans(),
            too_large=st.booleans(),
        ),
        st.builds(
            SqlFailure,
            st.text(),
            errno=st.none() | st.integers(),
            sqlstate=st.none() | st.text(),
            connection_lost=st.booleans(),
            reconnects=st.booleans(),
            statement_sent=st.booleans(),
        ),
    )
)
def test_failures(failure: TransportError | SqlFailure) -> None:
    back = failure_from_json(through_text(failure_to_json(failure)))
    assert type(back) is type(failure)
    assert vars(back) == vars(failure)


def test_a_sql_failure_recorded_before_reconnects_existed_reconnects() -> None:
    recorded = {"type": "SqlFailure", "message": "x", "errno": 390111, "connection_lost": False}
    back = failure_from_json(recorded)
    assert isinstance(back, SqlFailure)
    assert back.reconnects
    assert back.statement_sent  # nor statement_sent: what a failure meant before it existed
    assert failure_to_json(back) == {**recorded, "sqlstate": None}


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        {},
        {"type": "Nope"},
        {"type": "Sleep"},
        {"type": "Sleep", "seconds": "soon"},
        {"type": "HttpRequest", "method": "GET", "target": "/", "headers": [["a"]], "body": ""},
        {
            "type": "HttpRequest",
            "method": "GET",
            "target": "/",
            "headers": [],
            "body": {"$base64": "!"},
        },
        {"type": "SqlQuery", "text": "x", "params": [{"$decimal": "abc"}], "operation": ""},
        {"type": "SqlQuery", "text": "x", "params": [{"$when": "x"}], "operation": ""},
        {"type": "SqlQuery", "text": "x", "params": [[1]], "operation": ""},
        {"type": "Gather"},
        {"type": "HttpResponse", "status": 200},
    ],
)
def test_unusable_effects(value: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  # the message varies with what is wrong
        effect_from_json(value)


@pytest.mark.parametrize(
    "value",
    [
        {"type": "HttpRequest"},
        {"type": "TransportError", "message": "x"},
        {"type": "SqlFailure", "message": "x", "connection_lost": "yes"},
        {"type": "SqlFailure", "message": "x", "errno": True, "connection_lost": False},
        {"type": "SqlFailure", "message": "x", "connection_lost": True, "reconnects": "no"},
        "text",
    ],
)
def test_unusable_failures(value: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  # the message varies with what is wrong
        failure_from_json(value)
