"""Every parser runs in time linear in its input, whatever a server, a SQL row or a cassette sends.

A field of N digits and one stray character took time quadratic in N to refuse (8,000 digits:
2.4 s), freezing the client and, under asyncio or trio, the whole event loop. These tests feed
each parser long inputs of adversarial shapes and compare the CPU time at N and at 4N: linear
parsing takes about 4 times as long, quadratic 16 times. It is a ratio, not a wall-clock limit,
and CPU time of this process only, so a busy machine does not change the verdict.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs_core import (
    Cassette,
    HttpResponse,
    JobError,
    ReasonerType,
    SqlFailure,
    SqlRows,
    parse_include,
    parse_reasoner_type,
)
from jobs_core import _failures as failures
from jobs_core import _http_dialect as http
from jobs_core import _sql_dialect as sql
from jobs_core._failures import error_text, retry_after_s
from jobs_core._records import record_from_http, records_from_sql
from jobs_core._timestamps import parse_http_date, parse_timestamp

LOGIC = ReasonerType.LOGIC
JOB = ReasonerType.PREDICTIVE
MAX_RATIO = 10.0
"""Linear is about 4 and quadratic 16: 10 leaves room for noise either way."""


def _cpu_seconds(parse: Callable[[Any], object], value: Any, loops: int) -> float:
    start = time.process_time()
    for _ in range(loops):
        with contextlib.suppress(JobError):
            parse(value)
    return time.process_time() - start


def _loops_for(parse: Callable[[Any], object], value: Any) -> int:
    """Return how many calls take at least 0.5 ms of CPU, so timer resolution does not matter."""
    loops = 1
    while loops < 100_000 and _cpu_seconds(parse, value, loops) < 0.0005:
        loops *= 4
    return loops


def time_ratio(parse: Callable[[Any], object], make: Callable[[int], Any], n: int) -> float:
    """Return the CPU time of `parse(make(4n))` over that of `parse(make(n))` (best of two)."""
    small, large = make(n), make(4 * n)
    gc.disable()
    try:
        loops = _loops_for(parse, small)
        best_small = min(_cpu_seconds(parse, small, loops) for _ in range(2))
        best_large = min(_cpu_seconds(parse, large, loops) for _ in range(2))
    finally:
        gc.enable()
    return best_large / max(best_small, 1e-9)


def _response(body: bytes, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(200, headers, body)


def _error(text: str) -> HttpResponse:
    return HttpResponse(500, (), text.encode())


def _transaction(field: str) -> Callable[[Any], object]:
    return lambda value: record_from_http(LOGIC, {"id": "t1", "state": "RUNNING", field: value})


def _sql_cell(column: str) -> Callable[[Any], object]:
    columns = ("ID", "REASONER_TYPE", "STATE", column)
    return lambda value: records_from_sql(JOB, SqlRows(columns, (("j1", "ML", "RUNNING", value),)))


def _cassette(line: str) -> object:
    header = json.dumps({"cassette": "jobs-client", "version": 1, "config": {"http": True}})
    return Cassette.parse([header + "\n", line])


STRING_PARSERS: dict[str, Callable[[str], object]] = {
    "timestamp": parse_timestamp,
    "http date": parse_http_date,
    "retry-after": lambda text: retry_after_s(_response(b"", ("Retry-After", text))),
    "include key": lambda text: parse_include({text: True}, (LOGIC,)),
    "reasoner type": parse_reasoner_type,
    "state": _transaction("state"),
    "duration": _transaction("duration"),
    "read_only": _transaction("read_only"),
    "created_on": _transaction("created_on"),
    "sql created_on": _sql_cell("CREATED_ON"),
    "sql duration": _sql_cell("DURATION"),
    "sql payload": _sql_cell("PAYLOAD"),
    "sql events cell": lambda text: sql.parse_events(SqlRows(("V",), ((text,),))),
    "sql artifacts cell": lambda text: sql.parse_artifacts(SqlRows(("V",), ((text,),))),
    "sql failure": lambda text: failures.sql_failure_error("get", JOB, SqlFailure(text)),
    "error body": lambda text: failures.check_status(
        JOB, "get", HttpResponse(500, (), text.encode())
    ),
    "error text": lambda text: error_text(_error(text)),
    "get body": lambda text: http.parse_get(JOB, _response(text.encode())),
    "list body": lambda text: http.parse_list(LOGIC, _response(text.encode())),
    "get job body": lambda text: http.parse_get_job(JOB, _response(text.encode())),
    "list jobs body": lambda text: http.parse_list_jobs(JOB, _response(text.encode())),
    "list transactions body": lambda text: http.parse_list_jobs(LOGIC, _response(text.encode())),
    "events body": lambda text: http.parse_events(JOB, _response(text.encode())),
    "cassette line": _cassette,
}

# Shapes that make a backtracking parser retry every split: a run of one unit, then a character
# that makes the whole match fail at the very end.
KNOWN_SHAPES: list[tuple[str, str, str]] = [
    ("", "1", "x"),
    ("", "1", ".x"),
    ("1.", "1", "x"),
    ("", "1", "e"),
    ("2024-01-01T00:00:00.", "1", "x"),
    ("2024-01-01T00:00:00", " ", "x"),
    ("Mon, 01 Jan 2024 00:00:00", " ", "x"),
    ("", " ", "x"),
    ("", "[", ""),
    ('{"events": [', "{},", "x"),
    ('{"jobs": [', '{"id": "a", "state": "RUNNING", "worker_name": "w"},', "x"),
    ('{"job": {"id": "', "a", '", "state": "RUNNING", "worker_name": "w"}'),
    ('{"id": "', "a", ""),
    ("", "could not find ", "x"),
]


def _shape(prefix: str, unit: str, suffix: str) -> Callable[[int], str]:
    return lambda n: prefix + unit * (n // len(unit)) + suffix


def _cases() -> Iterator[Any]:
    for name, parse in STRING_PARSERS.items():
        for prefix, unit, suffix in KNOWN_SHAPES:
            yield pytest.param(parse, prefix, unit, suffix, id=f"{name}-{prefix}{unit}*N{suffix}")


@pytest.mark.parametrize(("parse", "prefix", "unit", "suffix"), list(_cases()))
def test_known_worst_shapes_parse_in_linear_time(
    parse: Callable[[str], object], prefix: str, unit: str, suffix: str
) -> None:
    ratio = time_ratio(parse, _shape(prefix, unit, suffix), 2_000)
    assert ratio < MAX_RATIO, f"time grew {ratio:.1f}x for 4x the input"


UNITS = ["1", "12", " ", ".", "1.", ".1", "-", ":", "0:", "a", "e1", "1e", ",", "\t", '"', "{}"]
PREFIXES = ["", "1", "+", "2024-01-01", "2024-01-01T00:00:00.", "Mon, ", '{"state": "', "["]
SUFFIXES = ["", "x", "Z", " GMT", ".", "\x00", "}", "é"]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    parser=st.sampled_from(sorted(STRING_PARSERS)),
    prefix=st.sampled_from(PREFIXES),
    unit=st.sampled_from(UNITS),
    suffix=st.sampled_from(SUFFIXES),
)
def test_fuzzed_long_inputs_fail_only_with_job_errors_in_linear_time(
    parser: str, prefix: str, unit: str, suffix: str
) -> None:
    parse = STRING_PARSERS[parser]
    make = _shape(prefix, unit, suffix)
    with contextlib.suppress(JobError):
        parse(make(50_000))
    ratio = time_ratio(parse, make, 2_000)
    assert ratio < MAX_RATIO, f"time grew {ratio:.1f}x for 4x the input"


def test_the_check_catches_a_quadratic_parser() -> None:
    """The measure itself must tell linear from quadratic, or the tests above prove nothing."""

    quadratic = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # the old number regex
    linear = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
    assert time_ratio(quadratic.fullmatch, _shape("", "1", "x"), 500) > MAX_RATIO
    assert time_ratio(linear.fullmatch, _shape("", "1", "x"), 2_000) < MAX_RATIO
