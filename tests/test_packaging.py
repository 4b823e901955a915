"""What pyproject.toml and MANIFEST.in ship holds what the code needs, checked without building.

The wheel holds the packages `[tool.setuptools.packages.find]` finds, and of their other files
only those `package-data` names: a folder without `__init__.py`, or a data file the patterns miss,
would be left out of every install while the suite, run from the source tree, still passes.
"""

from __future__ import annotations

import importlib
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).parent.parent
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS: dict[str, Any] = PYPROJECT["tool"]["setuptools"]
PACKAGES = ("jobs_core", "jobs_transports", "jobs_emulator")
_NOT_SHIPPED = ("__pycache__",)


def _package_files(package: str) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / package).rglob("*"))
        if path.is_file() and not any(part in _NOT_SHIPPED for part in path.parts)
    ]


def test_the_packages_are_the_ones_found() -> None:
    patterns = SETUPTOOLS["packages"]["find"]["include"]
    for package in PACKAGES:
        assert any(fnmatch(package, pattern) for pattern in patterns)
    for folder in ("tests", "bench", "examples", "docs"):
        assert not any(fnmatch(folder, pattern) for pattern in patterns)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_folder_of_python_is_a_package_the_wheel_holds(package: str) -> None:
    folders = {path.parent for path in _package_files(package) if path.suffix == ".py"}
    assert [f for f in sorted(folders) if not (f / "__init__.py").exists()] == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_other_file_of_a_package_is_package_data(package: str) -> None:
    patterns = [
        pattern
        for owner, owned in SETUPTOOLS["package-data"].items()
        if owner in ("*", package)
        for pattern in owned
    ]
    others = [path.name for path in _package_files(package) if path.suffix != ".py"]
    assert "py.typed" in others  # type checkers read the installed package's annotations
    assert [name for name in others if not any(fnmatch(name, p) for p in patterns)] == []


ENTRY_POINTS = [
    *PYPROJECT["project"]["scripts"].items(),
    *PYPROJECT["project"]["entry-points"]["pytest11"].items(),
]


@pytest.mark.parametrize(("name", "target"), ENTRY_POINTS, ids=[name for name, _ in ENTRY_POINTS])
def test_every_entry_point_names_something_that_exists(name: str, target: str) -> None:
    module, _, attribute = target.partition(":")
    loaded = importlib.import_module(module)
    if attribute:
        assert callable(getattr(loaded, attribute))


def test_the_sdist_holds_every_folder_of_the_source_tree() -> None:
    lines = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    grafted = {line.split()[1] for line in lines if line.startswith("graft ")}
    folders = {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir()
        and not path.name.startswith((".", "__"))
        and path.name not in (*PACKAGES, "build", "dist")
        and not path.name.endswith(".egg-info")
    }
    assert folders - grafted == set()
    assert "include Makefile" in lines
