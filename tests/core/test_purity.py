"""`jobs_core` does no I/O: none of its modules pulls in a network, thread or event-loop module.

attrs and cattrs, the two dependencies the core is allowed, import `threading` themselves; the
check is that `jobs_core` adds none of the forbidden modules to what they already import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jobs_core

FORBIDDEN = ["socket", "ssl", "asyncio", "threading", "trio", "httpcore", "h11", "snowflake"]


def _forbidden_after(imports: str) -> set[str]:
    code = f"import sys\n{imports}\nprint(' '.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_jobs_core_adds_no_io_module() -> None:
    allowed = _forbidden_after("import attrs, cattrs, cattrs.gen, cattrs.errors")
    modules = [f"jobs_core.{m.stem}" for m in sorted(Path(jobs_core.__file__).parent.glob("_*.py"))]
    assert "jobs_core._serialization" in modules
    assert _forbidden_after(f"import {', '.join(modules)}") - allowed == set()
    assert "socket" not in allowed


def test_the_check_notices_a_forbidden_import() -> None:
    assert "socket" in _forbidden_after("import jobs_core, socket")


def _packages_after(imports: str) -> set[str]:
    """Return the top-level modules outside the standard library loaded by `imports`."""
    code = f"import sys\n{imports}\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    tops = {name.split(".")[0] for name in out.stdout.split()}
    return {name for name in tops if name not in sys.stdlib_module_names and name != "__main__"}


def test_importing_jobs_core_loads_no_package_but_attrs_cattrs_and_msgspec() -> None:
    # What a user's `import jobs_core` costs: its dependencies and theirs, nothing the drivers use.
    allowed = _packages_after("import attrs, cattrs, cattrs.gen, cattrs.errors, msgspec.json")
    modules = [f"jobs_core.{m.stem}" for m in sorted(Path(jobs_core.__file__).parent.glob("_*.py"))]
    assert _packages_after(f"import {', '.join(modules)}") - allowed == {"jobs_core"}
    assert "yaml" in _packages_after("import jobs_core, yaml") - allowed
