"""The dialects, the record converter and the cassette serialisation import no I/O module.

`_serialization` is not imported by the package itself, so the package-wide check does not see
it. attrs and cattrs import `threading` themselves: the check is what these modules add to that.
"""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ["socket", "ssl", "asyncio", "threading", "trio", "httpcore", "h11", "snowflake"]
MODULES = ["_records", "_http_dialect", "_http_status", "_sql_dialect", "_serialization"]


def forbidden_after(imports: str) -> set[str]:
    """Return the forbidden modules loaded after running `imports` in a fresh interpreter."""
    code = f"import sys\n{imports}\nprint(' '.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_dialect_modules_add_no_io_module() -> None:
    baseline = forbidden_after("import attrs, cattrs, cattrs.gen, cattrs.errors")
    imports = "\n".join(f"import jobs_core.{module}" for module in MODULES)
    assert forbidden_after(imports) - baseline == set()
    assert "socket" not in baseline
