"""jobs_transports' public names: what `__all__` lists, and nothing private behind them.

As trio tests its exports: the package exposes exactly `__all__` (plus its two public modules),
every public name is documented, and no public signature takes or returns a type that users
cannot import from `jobs_core` or `jobs_transports`.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import jobs_core
import jobs_transports

PUBLIC = {
    "EndpointProvider",
    "EventIterator",
    "EventIteratorSync",
    "JobClientClosedError",
    "JobOperation",
    "JobOperationSync",
    "JobsClient",
    "JobsClientSync",
    "JobsGateway",
    "JobsGatewaySync",
    "Timeouts",
    "connect",
    "connect_sync",
    "describe_connection",
}
PUBLIC_MODULES = {"cli", "pytest_plugin"}
OURS = ("jobs_core", "jobs_transports")


def test_the_package_exposes_exactly_its_public_names() -> None:
    assert set(jobs_transports.__all__) == PUBLIC
    exposed = {
        name
        for name, value in vars(jobs_transports).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exposed == PUBLIC
    modules = {
        name
        for name, value in vars(jobs_transports).items()
        if not name.startswith("_") and name.isidentifier() and isinstance(value, types.ModuleType)
    }
    assert modules <= PUBLIC_MODULES


@pytest.mark.parametrize("name", sorted(PUBLIC - {"EndpointProvider"}))
def test_every_public_name_is_documented(name: str) -> None:
    value = getattr(jobs_transports, name)
    assert inspect.getdoc(value), name
    for member_name, member in inspect.getmembers(value, inspect.isfunction):
        if not member_name.startswith("_"):
            assert inspect.getdoc(member), f"{name}.{member_name}"


def _signatures() -> Iterator[tuple[str, Callable[..., Any]]]:
    for name in sorted(PUBLIC - {"EndpointProvider"}):
        value = getattr(jobs_transports, name)
        if inspect.isfunction(value):
            yield name, value
            continue
        yield f"{name}.__init__", value.__init__
        for member_name, member in inspect.getmembers(value, inspect.isfunction):
            if not member_name.startswith("_"):
                yield f"{name}.{member_name}", member


def _classes(hint: Any) -> Iterator[type]:
    if isinstance(hint, type):
        yield hint
    for argument in typing.get_args(hint):
        yield from _classes(argument)


def _importable(cls: type) -> bool:
    package = cls.__module__.partition(".")[0]
    if package not in OURS:
        return True
    exported = (jobs_core if package == "jobs_core" else jobs_transports).__all__
    return cls.__name__ in exported


@pytest.mark.parametrize(("where", "function"), list(_signatures()))
def test_no_public_signature_names_a_private_type(where: str, function: Callable[..., Any]) -> None:
    hints = typing.get_type_hints(function)
    private = {
        name
        for hint in hints.values()
        for cls in _classes(hint)
        if not _importable(cls)
        for name in [f"{cls.__module__}.{cls.__qualname__}"]
    }
    assert private == set(), where
