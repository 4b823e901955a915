"""The async client, the sync client, their handles and the core's protocols agree.

Every public method takes the same parameters, in the same order and kind, with the same
defaults, in all of them; the defaults themselves (900 s, 0.5 s, "progress") are the core's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import jobs_core as core
from jobs_transports import JobOperation, JobOperationSync, JobsClient, JobsClientSync

CLOSING = {"close", "aclose"}


def public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in CLOSING
    }


def shape(function: Callable[..., Any], *, drop: int) -> tuple[list[Any], set[Any]]:
    """Name, kind and default of each parameter after the first `drop` ones: the positional
    ones in order, the keyword-only ones as a set (their order means nothing)."""
    parameters = list(inspect.signature(function).parameters.values())[drop:]
    keyword_only = {p for p in parameters if p.kind is p.KEYWORD_ONLY}
    return (
        [(p.name, p.kind, p.default) for p in parameters if p not in keyword_only],
        {(p.name, p.default) for p in keyword_only},
    )


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"), [(JobsClient, JobsClientSync), (JobOperation, JobOperationSync)]
)
def test_the_async_and_sync_apis_have_the_same_methods(async_cls: type, sync_cls: type) -> None:
    async_methods, sync_methods = public_methods(async_cls), public_methods(sync_cls)
    assert async_methods.keys() == sync_methods.keys()
    for name, method in async_methods.items():
        signature, mirrored = inspect.signature(method), inspect.signature(sync_methods[name])
        # Each client takes its own kind of handle (as_completed, wait_all): the same otherwise.
        mine = [
            p
            if p.annotation is p.empty
            else p.replace(annotation=p.annotation.replace("JobOperationSync", "JobOperation"))
            for p in mirrored.parameters.values()
        ]
        assert list(signature.parameters.values()) == mine, name
    assert hasattr(JobsClient, "aclose")
    assert hasattr(JobsClientSync, "close")


CLIENT_TO_CORE: dict[str, Callable[..., Any]] = {
    "get": core.get,
    "create": core.create,
    "create_ready": core.create_ready,
    "list": core.list_jobs,
    "get_events": core.get_events,
    "iter_events": core.EventsPager.open,
    "cancel": core.cancel,
    "wait": core.wait,
    "get_operation": core.get_operation,
    "operation": core.OperationHandle.of,
    "as_completed": core.Completions.open,
    "wait_all": core.wait_all,
}


def test_every_client_method_is_a_core_protocol_with_the_same_parameters() -> None:
    assert public_methods(JobsClientSync).keys() == CLIENT_TO_CORE.keys()
    for name, protocol in CLIENT_TO_CORE.items():
        # Past the client's `self` and the core's `config` (class methods come bound).
        assert shape(getattr(JobsClientSync, name), drop=1) == shape(protocol, drop=1), name


def test_every_handle_method_is_a_core_handle_protocol_with_the_same_parameters() -> None:
    handle = core.OperationHandle
    assert public_methods(JobOperationSync).keys() == {
        name for name in public_methods(handle) if name != "of"
    }
    for name in public_methods(JobOperationSync):
        assert shape(getattr(JobOperationSync, name), drop=1) == shape(
            getattr(handle, name), drop=1
        ), name


def test_the_defaults_are_the_cores() -> None:
    wait = inspect.signature(JobsClientSync.wait).parameters
    assert wait["timeout_s"].default == core.DEFAULT_TIMEOUT_S == 900
    assert wait["poll_interval_s"].default == core.DEFAULT_POLL_INTERVAL_S == 0.5
    events = inspect.signature(JobsClient.get_events).parameters
    assert events["stream_name"].default == core.DEFAULT_STREAM == "progress"


SEEDS = {
    "get": "(self, reasoner_type, job_id, *, include=None)",
    "create": "(self, reasoner_type, reasoner_name, payload, *, timeout_mins=None)",
    "create_ready": "(self, reasoner_type, reasoner_name, payload, *, timeout_mins=None,"
    " timeout_s=900, poll_interval_s=0.5, include=None",
    "list": "(self, reasoner_type=None, *, job_id=None, state=None, name=None, created_by=None,"
    " only_active=False, all_users=False, limit=None, include=None",
    "get_events": "(self, reasoner_type, job_id, continuation_token='', *, stream_name='progress')",
    "cancel": "(self, reasoner_type, job_id, *, all_users=False)",
    "wait": "(self, reasoner_type, job_id, *, timeout_s=900, poll_interval_s=0.5, include=None",
    "get_operation": "(self, reasoner_type, job_id)",
}


@pytest.mark.parametrize("cls", [JobsClient, JobsClientSync])
def test_the_clients_start_with_the_seed_signatures(cls: type) -> None:
    """The published signatures come first; later keyword-only additions may follow them."""
    for name, seed in SEEDS.items():
        signature = inspect.signature(getattr(cls, name))
        bare = signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
        if seed.endswith(")"):
            assert str(bare) == seed, name
        else:
            assert str(bare).startswith(seed + ", ") or str(bare) == seed + ")", name


CONSTRUCTORS = {
    JobsClient: "(_gateway, _config=None, _closed=False)",
    JobsClientSync: "(gateway, *, config=None)",
}
CLOSERS = {JobsClient: "aclose", JobsClientSync: "close"}


@pytest.mark.parametrize("cls", [JobsClient, JobsClientSync])
def test_the_constructors_and_closers_are_the_seeds(cls: type) -> None:
    """The seeds publish both constructors (the async one with its underscored parameters) and a
    closer that takes nothing and returns None."""
    assert _bare(inspect.signature(cls)) == CONSTRUCTORS[cls]
    closer = inspect.signature(getattr(cls, CLOSERS[cls]))
    assert _bare(closer) == "(self)"
    assert closer.return_annotation == "None"


def _bare(signature: inspect.Signature) -> str:
    """`signature` without annotations, as the seeds' parameter lists are compared."""
    return str(
        signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
    )
