"""Nothing outside a package imports the package's underscored modules: the packages, the
examples and the benchmarks use public names only (tests may reach into the unit they test)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("jobs_core", "jobs_transports", "jobs_emulator")


def _private_imports(path: Path, owner: str | None) -> list[str]:
    """Return the modules `path` imports that are private to a package other than `owner`."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return [
        name
        for name in names
        if name.split(".")[0] in PACKAGES
        and name.split(".")[0] != owner
        and any(_is_private(part) for part in name.split(".")[1:])
    ]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _sources() -> list[tuple[Path, str | None]]:
    found: list[tuple[Path, str | None]] = [
        (path, package) for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    ]
    found += [
        (path, None) for folder in ("examples", "bench") for path in (ROOT / folder).rglob("*.py")
    ]
    return found


@pytest.mark.parametrize(("path", "owner"), _sources(), ids=lambda value: str(value))
def test_only_public_names_cross_a_package_boundary(path: Path, owner: str | None) -> None:
    assert _private_imports(path, owner) == []


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    source = tmp_path / "user.py"
    source.write_text(
        "from jobs_core._secrets import scrub_text\nimport jobs_core\n"
        "from jobs_core import _retry as retry, Job\n"
    )
    assert _private_imports(source, None) == [
        "jobs_core._secrets",
        "jobs_core._secrets.scrub_text",
        "jobs_core._retry",
    ]
    assert _private_imports(source, "jobs_core") == []
