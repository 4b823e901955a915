"""No secret given to the client appears in anything it produces: results, error messages (and
the exceptions they chain), cassettes. Servers here quote the token back in every way they can."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    ClientConfig,
    Gather,
    HttpRequest,
    HttpResponse,
    JobError,
    Now,
    Sleep,
    SqlFailure,
    SqlQuery,
    TransportError,
    recorded,
)
from jobs_core._cassette import REDACTED, header_line, redact_line, to_text
from tests.core.replies import job_json, txn_json, txn_row

TOKEN = "tok-s3cr3t/+=x"
COOKIE = "session=abc123def456"
SECRETS = (TOKEN, f'Snowflake Token="{TOKEN}"', COOKIE)
HTTP = ClientConfig(http=True, secrets=SECRETS, retry=core.RetryPolicy(max_attempts=2))
SQL = ClientConfig(sql=True, app="APP", secrets=SECRETS, retry=core.RetryPolicy(max_attempts=2))
QUOTED = json.dumps(TOKEN)[1:-1]


def _echo(status: int, **body: Any) -> HttpResponse:
    headers = (
        ("Content-Type", "application/json"),
        ("Set-Cookie", COOKIE),
        ("X-Auth-Token", TOKEN),
        ("X-Echo", f"you sent {TOKEN}"),
    )
    return HttpResponse(status, headers, json.dumps(body).replace(TOKEN, QUOTED).encode())


def hostile_http(effect: HttpRequest) -> Any:
    """Echo the token back from every endpoint, in bodies, headers and failures."""
    target = effect.target
    if effect.method == "POST" and target.startswith("/v1alpha1/jobs"):
        return _echo(400, message=f"bad token {TOKEN}")
    if target.endswith("/events/progress"):
        return TransportError(f"reset while sending Authorization: {TOKEN}", request_sent=True)
    if "no-such" in target:
        return _echo(503, message=f"unavailable for {TOKEN}")
    if target.endswith("/t1"):
        return _echo(200, **txn_json("t1", state="COMPLETED", abort_reason=f"echo {TOKEN}"))
    if target.endswith("/artifacts"):
        return _echo(200, results=[{"filename": TOKEN}])
    return _echo(200, jobs=[job_json("j1", state="RUNNING", created_by=TOKEN)])


def hostile_sql(query: SqlQuery) -> Any:
    if query.operation == "create":
        return SqlFailure(f"Invalid password {TOKEN} for user", errno=390100)
    if query.operation == "cancel":
        return SqlFailure(f"session of {TOKEN} lost", connection_lost=True)
    return txn_row("t1", state="COMPLETED", ABORT_REASON=TOKEN, CREATED_BY=TOKEN)


def calls(config: ClientConfig) -> list[core.Protocol[Any]]:
    return [
        core.get(config, "Logic", "t1", include={"artifacts": True, "raw": True}),
        core.get(config, "Logic", "t1", include={"events": True}),
        core.create(config, "Predictive", "w", {}),
        core.create(config, "Logic", "e1", {"database": "db", "query": "q"}),
        core.wait(config, "Predictive", "no-such-job", timeout_s=3, poll_interval_s=1),
        core.list_jobs(config, "Predictive"),
        core.cancel(config, "Logic", "t1"),
    ]


def run(protocol: core.Protocol[Any], answer: Any, clock: list[float]) -> Any:
    try:
        effect = next(protocol)
        for _ in range(1_000):
            if isinstance(effect, Now):
                reply: Any = clock[0]
            elif isinstance(effect, Sleep):
                clock[0] += effect.seconds
                reply = None
            elif isinstance(effect, Gather):
                reply = [
                    _outcome(lambda c=child: run(c, answer, clock)) for child in effect.protocols
                ]
            else:
                reply = answer(effect)
            effect = protocol.throw(reply) if isinstance(reply, Exception) else protocol.send(reply)
        raise AssertionError("the protocol never ended")
    except StopIteration as stop:
        return stop.value


def _outcome(call: Any) -> Any:
    try:
        return call()
    except JobError as exc:
        return exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _texts(outcome: Any) -> list[str]:
    if isinstance(outcome, BaseException):
        return [text for e in _chain(outcome) for text in (str(e), repr(e), repr(e.args))]
    return [repr(outcome)]


@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
def test_no_output_of_a_recorded_session_holds_a_secret(config: ClientConfig) -> None:
    lines = [to_text(redact_line(header_line(config), config.masks))]
    outcomes = []
    answer = hostile_http if config.http else hostile_sql
    clock = [0.0]
    for number, protocol in enumerate(calls(config)):
        sink = lambda line: lines.append(to_text(redact_line(line, config.masks)))  # noqa: E731
        wrapped = recorded(protocol, sink, str(number))
        outcomes.append(_outcome(lambda wrapped=wrapped: run(wrapped, answer, clock)))
    assert any(isinstance(o, JobError) for o in outcomes)  # the errors quote server text...
    assert any(REDACTED in text for o in outcomes for text in _texts(o))  # ...masked
    produced = [*lines, *(text for o in outcomes for text in _texts(o)), repr(config)]
    for secret in (TOKEN, QUOTED, COOKIE):
        leaks = [text[:200] for text in produced if secret in text]
        assert not leaks, f"{secret!r} leaked into {leaks}"


def test_the_cassette_header_never_holds_the_secrets() -> None:
    header = to_text(header_line(HTTP))
    assert "secrets" not in header
    assert TOKEN not in header


def test_credential_headers_are_masked_in_both_directions_by_name() -> None:
    request = {"type": "HttpRequest", "headers": [["Proxy-Authorization", "p"], ["Accept", "a"]]}
    reply = {
        "type": "HttpResponse",
        "headers": [["Set-Cookie", "c"], ["X-Auth-Token", "t"], ["x-api-key", "k"], ["Date", "d"]],
    }
    line = redact_line({"stream": "0", "effect": request, "reply": reply})
    assert line["effect"]["headers"] == [["Proxy-Authorization", REDACTED], ["Accept", "a"]]
    assert [value for _, value in line["reply"]["headers"]] == [REDACTED] * 3 + ["d"]


def test_bodies_kept_as_base64_are_masked_too() -> None:
    body = b"\xff" + TOKEN.encode()
    response = HttpResponse(200, (), body)
    line = {"stream": "0", "reply": core._serialization.reply_to_json(response)}
    masked = redact_line(line, HTTP.masks)
    back = core._serialization.reply_from_json(masked["reply"])
    assert isinstance(back, HttpResponse)
    assert back.body == b"\xff" + REDACTED.encode()


def test_values_too_short_to_be_secrets_are_not_masked() -> None:
    config = ClientConfig(http=True, secrets=("", "ab"))
    assert config.masks == ()


def test_secrets_must_be_strings() -> None:
    with pytest.raises(core.JobConfigurationError):
        ClientConfig(http=True, secrets=(b"x",))


def test_a_secret_added_while_the_client_runs_is_masked_by_every_configuration() -> None:
    config = ClientConfig(http=True, secrets=(TOKEN,))
    call = config.for_call(3)
    lines: list[str] = []
    writer = core.CassetteWriter(config, lines.append)
    late = "tok-obtained-later-xyz"
    config.secrets.add(late)
    assert late in call.masks
    assert TOKEN in call.masks
    recording = writer.record(_ask())
    assert isinstance(next(recording), HttpRequest)
    with pytest.raises(StopIteration):
        recording.send(HttpResponse(200, (), json.dumps({"echo": late}).encode()))
    assert late not in "".join(lines)
    assert REDACTED in lines[-1]
    assert late not in repr(config) + lines[0]
    assert config == ClientConfig(http=True, seed=config.seed)
    with pytest.raises(core.JobConfigurationError, match="not bytes"):
        config.secrets.add(b"x")  # type: ignore[arg-type]


def _ask() -> core.Protocol[Any]:
    reply = yield HttpRequest("GET", "/v1alpha1/jobs", ())
    return reply


@pytest.mark.parametrize(
    ("in_body", "in_header"), [(True, False), (False, True), (True, True)], ids=str
)
def test_a_secret_in_the_body_alone_or_in_one_header_alone_is_masked(
    in_body: bool, in_header: bool
) -> None:
    created_by = TOKEN if in_body else "alice"
    body = json.dumps({"transaction": txn_json("t1", created_by=created_by)}).encode()
    headers = (("Content-Type", "application/json"), ("X-Echo", TOKEN if in_header else "hi"))
    response = HttpResponse(200, headers, body)
    masked = core._secrets.scrub_response(response, HTTP.masks)
    assert TOKEN not in repr(masked)
    assert (REDACTED in masked.body.decode()) is in_body
    assert (masked.headers[1][1] == REDACTED) is in_header
    assert masked.headers[0] == headers[0]
    job = run(core.get(HTTP, "Logic", "t1"), lambda effect: response, [0.0])
    assert job.created_by == (REDACTED if in_body else "alice")


def test_a_response_that_quotes_no_secret_is_passed_on_as_it_is() -> None:
    response = HttpResponse(200, (("X-Echo", "hi"),), json.dumps(txn_json("t1")).encode())
    assert core._secrets.scrub_response(response, HTTP.masks) is response


def test_rows_are_masked_cell_by_cell_and_passed_on_as_they_are_when_none_holds_a_secret() -> None:
    clean = core.SqlRows(("ID", "BY", "N"), (("j1", "alice", 1), ("j2", None, 2)))
    assert core._secrets.scrub_rows(clean, HTTP.masks) is clean
    leaky = core.SqlRows(clean.columns, (*clean.rows, ("j3", f"by {TOKEN}", 3)))
    masked = core._secrets.scrub_rows(leaky, HTTP.masks)
    assert masked.rows == (*clean.rows, ("j3", f"by {REDACTED}", 3))
    # A secret made of two cells side by side is in no cell: nothing is masked.
    split = core.SqlRows(("A", "B"), ((TOKEN[:6], TOKEN[6:]),))
    assert core._secrets.scrub_rows(split, HTTP.masks).rows == split.rows
