"""The public cassette writer and replay check, end to end in memory: record, parse, replay."""

from __future__ import annotations

import json
from typing import Any

import pytest

import jobs_core as core
from jobs_core import (
    Cassette,
    CassetteError,
    CassetteWriter,
    HttpRequest,
    HttpResponse,
    Protocol,
    Replayer,
    Stepper,
)
from tests.core.replies import HTTP, job_json, ok

SECRET = "s3cret-token"


def _probe(target: str) -> Protocol[int]:
    response: HttpResponse = yield HttpRequest("GET", target, (("Authorization", SECRET),), b"")
    return response.status


def _drive(protocol: Protocol[Any], replies: list[Any]) -> Any:
    """Answer `protocol`'s effects with `replies` in order; return its result."""
    stepper = Stepper(protocol)
    effect = stepper.start()
    for reply in replies:
        assert effect is not None
        effect = stepper.send(reply)
    assert stepper.done
    return stepper.result


def _recorded(redact: core.Redactor | None = None) -> list[str]:
    text: list[str] = []
    writer = CassetteWriter(HTTP, text.append, redact)
    assert _drive(writer.record(_probe("/a")), [HttpResponse(204, (), b"")]) == 204
    got = _drive(writer.record(core.get(HTTP, "Predictive", "j1")), [ok({"job": job_json("j1")})])
    assert got is not None
    assert got.id == "j1"
    return text


def test_the_writer_makes_a_cassette_that_replays() -> None:
    text = _recorded()
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in text)
    header, *lines = (json.loads(line) for line in text)
    assert header["cassette"] == "jobs-client"
    assert [line["stream"] for line in lines] == ["0", "1"]
    replayer = Replayer(Cassette.parse(text))
    assert replayer.cassette.config == HTTP
    assert replayer.run(_probe("/a")) == 204
    job = replayer.run(core.get(HTTP, "Predictive", "j1"))
    assert job is not None
    assert job.id == "j1"
    replayer.finish()


def test_credentials_are_redacted_and_the_hook_masks_more() -> None:
    assert SECRET not in "".join(_recorded())

    def hide_targets(line: dict[str, Any]) -> dict[str, Any]:
        effect = line["effect"]
        if "target" in effect:
            effect = {**effect, "target": "/hidden"}
        return {**line, "effect": effect}

    text = _recorded(hide_targets)
    assert "/v1alpha1" not in "".join(text)
    assert '"/hidden"' in text[1]


def test_finish_reports_the_calls_never_replayed() -> None:
    replayer = Replayer(Cassette.parse(_recorded()))
    assert replayer.run(_probe("/a")) == 204
    with pytest.raises(CassetteError, match=r"1 recorded interaction.* never replayed.* line 3"):
        replayer.finish()


@pytest.mark.parametrize(
    "path", [(), ("retry",), ("polling",)], ids=["config", "config.retry", "config.polling"]
)
def test_a_header_configuration_with_a_key_it_does_not_have_is_refused(
    path: tuple[str, ...],
) -> None:
    text = _recorded()
    header = json.loads(text[0])
    section = header["config"]
    for key in path:
        section = section[key]
    section["surprise"] = 1
    with pytest.raises(CassetteError, match="unusable client configuration in the header"):
        Cassette.parse([json.dumps(header), *text[1:]])
