"""The explicit stepping object, for runtimes that cannot drive generators."""

from __future__ import annotations

import pytest

import jobs_core as core
from jobs_core import JobServerError, ReasonerType, Stepper, TransportError
from jobs_core import _http_dialect as http
from tests.core.replies import HTTP, ok, txn_json


def test_steps_a_get_to_its_result() -> None:
    stepper = Stepper(core.get(HTTP, "Logic", "t1"))
    assert stepper.start() == http.build_get(ReasonerType.LOGIC, "t1")
    assert not stepper.done
    assert stepper.send(ok(txn_json("t1"))) is None
    assert stepper.done
    assert stepper.result is not None
    assert stepper.result.id == "t1"


def test_throwing_a_transport_error_lets_the_retry_policy_decide() -> None:
    config = core.ClientConfig(http=True, retry=core.RetryPolicy(max_attempts=2, jitter=0))
    stepper = Stepper(core.get(config, "Logic", "t1"))
    request = stepper.start()
    assert stepper.throw(TransportError("ReadError", request_sent=True)) == core.Sleep(0.1)
    assert stepper.send(None) == request
    with pytest.raises(JobServerError):
        stepper.throw(TransportError("ReadError", request_sent=True))
    assert stepper.done
    with pytest.raises(RuntimeError):
        _ = stepper.result


def test_misuse_is_refused() -> None:
    stepper = Stepper(core.get(HTTP, "Logic", "t1"))
    with pytest.raises(RuntimeError):
        stepper.send(None)
    stepper.start()
    with pytest.raises(RuntimeError):
        stepper.start()
    with pytest.raises(RuntimeError):
        _ = stepper.result


def test_a_protocol_that_needs_no_effect_is_done_at_start() -> None:
    stepper = Stepper(core.list_jobs(HTTP, limit=0))
    assert stepper.start() is None
    assert stepper.result == []
