"""Retry jitter: concurrent calls on one client back off apart; the same call replays the same."""

from __future__ import annotations

from typing import Any

import jobs_core as core
from jobs_core import ClientConfig, Gather, HttpRequest, Sleep, SqlFailure, SqlQuery
from tests.core.replies import HTTP, SQL, ok, response, txn_json, txn_row


def backoffs(protocol: core.Protocol[Any], failures: int) -> list[float]:
    """Run `protocol`, failing each request `failures` times with a 503 (or a lost connection)."""
    sleeps: list[float] = []
    seen: dict[object, int] = {}

    def answer(effect: Any) -> Any:
        if isinstance(effect, Sleep):
            sleeps.append(effect.seconds)
            return None
        if isinstance(effect, Gather):
            return [run(child) for child in effect.protocols]
        assert isinstance(effect, HttpRequest | SqlQuery)
        seen[effect] = seen.get(effect, 0) + 1
        if isinstance(effect, SqlQuery):
            if seen[effect] <= failures:
                return SqlFailure("connection reset", connection_lost=True)
            return txn_row("t1", state="COMPLETED")
        if seen[effect] <= failures:
            return response(503, {"message": "busy"})
        if effect.target.endswith("/t1"):
            return ok(txn_json("t1", state="COMPLETED"))
        return ok({"results": [], "events": []})

    def run(protocol: core.Protocol[Any]) -> Any:
        try:
            effect = next(protocol)
            for _ in range(1_000):
                reply = answer(effect)
                if isinstance(reply, Exception):
                    effect = protocol.throw(reply)
                else:
                    effect = protocol.send(reply)
            raise AssertionError("the protocol never ended")
        except StopIteration as stop:
            return stop.value

    run(protocol)
    return sleeps


def test_concurrent_calls_of_one_client_draw_different_jitter() -> None:
    """One generator per request seeded by the client seed alone made every call retry in step."""
    for config in (HTTP, SQL):
        draws = [backoffs(core.get(config.for_call(n), "Logic", "t1"), 3) for n in range(20)]
        assert len(draws[0]) == 3
        assert len({tuple(d) for d in draws}) == 20


def test_the_expansions_of_one_call_draw_different_jitter() -> None:
    config = ClientConfig(http=True, logic_over_http=True)
    include = {"events": True, "artifacts": True, "problems": True}
    sleeps = backoffs(core.get(config, "Logic", "t1", include=include), 2)
    # The read itself, then its three expansions: two retries each, each pair its own.
    pairs = [tuple(sleeps[i : i + 2]) for i in range(0, len(sleeps), 2)]
    assert len(pairs) == 4
    assert len(set(pairs)) == 4


def test_the_same_call_of_the_same_client_draws_the_same_jitter() -> None:
    """What makes a replay exact: the draws depend on the seed, the call's number, the request."""
    again = ClientConfig(http=True, seed=HTTP.seed)
    first = backoffs(core.get(HTTP.for_call(7), "Logic", "t1"), 4)
    assert backoffs(core.get(again.for_call(7), "Logic", "t1"), 4) == first
    other_seed = ClientConfig(http=True, seed=HTTP.seed + 1).for_call(7)
    assert backoffs(core.get(other_seed, "Logic", "t1"), 4) != first


def test_for_call_changes_nothing_but_the_call_number() -> None:
    config = ClientConfig(http=True, sql=True, app="APP", seed=42)
    numbered = config.for_call(3)
    assert numbered.call == 3
    assert numbered.seed == 42
    assert numbered.for_call(0) == config
