"""The Python in README.md and docs/ is Python, and the snippets that are whole programs run.

A snippet is a whole program when it imports what it uses and starts its own emulator; it runs in a
fresh interpreter with warnings as errors, where a client or file left open prints a
ResourceWarning on stderr (a warning in a finalizer is printed, never raised).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _snippets() -> list[tuple[str, str]]:
    return [
        (f"{page.name}#{number}", code)
        for page in PAGES
        for number, code in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8")))
    ]


SNIPPETS = _snippets()


def _is_program(code: str) -> bool:
    return code.startswith(("import ", "from ")) and "jobs_emulator.serve(" in code


@pytest.mark.parametrize(("name", "code"), SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_every_python_snippet_parses(name: str, code: str) -> None:
    # Snippets that show the async client are written as in a coroutine's body.
    compile(code, name, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


PROGRAMS = [(name, code) for name, code in SNIPPETS if _is_program(code)]


@pytest.mark.parametrize(("name", "code"), PROGRAMS, ids=[name for name, _ in PROGRAMS])
def test_every_whole_program_runs_cleanly(name: str, code: str, tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ran.returncode, ran.stderr) == (0, ""), name


def test_the_pages_hold_whole_programs() -> None:
    assert {name.split("#")[0] for name, _ in PROGRAMS} == {"README.md", "emulator.md"}
