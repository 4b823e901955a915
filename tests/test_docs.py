"""The Python in README.md and docs/ is Python, and the snippets that are whole programs run.

The pages' claims about the code are checked as classes: every environment variable they name is
in the code and every one the client reads is in them; the exit statuses are the CLI's, and every
--option they name exists; links resolve inside the repository; dotted names and snippet imports
exist and are exported; every effect is in design.md's table, every error type where the pages
list the errors, every module in its package's docstring; the wait defaults are the code's.

A snippet is a whole program when it imports what it uses and starts its own emulator; it runs in a
fresh interpreter with warnings as errors, where a client or file left open prints a
ResourceWarning on stderr (a warning in a finalizer is printed, never raised). A shell session
that starts `jobs-emulator` runs in bash as written, on a free port, stopping at its first failure.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import os
import re
import signal
import socket
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import jobs_core

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


_SHELL = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
SESSIONS = [
    (f"{page.name}#sh{number}", code)
    for page in PAGES
    for number, code in enumerate(_SHELL.findall(page.read_text(encoding="utf-8")))
    if code.startswith("jobs-emulator ")
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize(("name", "code"), SESSIONS, ids=[name for name, _ in SESSIONS])
def test_every_shell_session_that_starts_an_emulator_runs_as_written(
    name: str, code: str, tmp_path: Path
) -> None:
    # The command-line session named $JOB_ID and $TXN_ID and read payload.json, none of which it
    # made, and followed the events of a Prescriptive job as Predictive. The port is swapped for a
    # free one; bash stops at the first command that fails (`set -e`).
    port = str(_free_port())
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PYTHONWARNINGS": "error",
    }
    # Output goes to files: a background emulator left running would hold pipes open.
    with (tmp_path / "out").open("w") as stdout, (tmp_path / "err").open("w") as stderr:
        session = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", code.replace("8080", port)],
            cwd=tmp_path,
            env=environment,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its background emulator is in its process group
        )
        try:
            session.wait(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    out, err = (tmp_path / "out").read_text(), (tmp_path / "err").read_text()
    assert session.returncode == 0, f"{name}: {err}"
    assert "Traceback" not in err, name
    assert "done" in out.splitlines(), name


def test_the_pages_hold_a_shell_session() -> None:
    assert [name for name, _ in SESSIONS] == ["README.md#sh2"]


def test_the_pages_hold_whole_programs() -> None:
    assert {name.split("#")[0] for name, _ in PROGRAMS} == {"README.md", "emulator.md"}


# --- claims the pages make about the code, checked as a class --------------------------------

PACKAGES = ("jobs_core", "jobs_transports", "jobs_emulator")
_SOURCES = {
    path: path.read_text(encoding="utf-8")
    for package in PACKAGES
    for path in sorted((ROOT / package).rglob("*.py"))
}


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _string_literals() -> set[str]:
    return {
        node.value
        for source in _SOURCES.values()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


_VARIABLE = re.compile(r"\b(?:JOBS|RAI|SNOWFLAKE)_[A-Z_]*[A-Z]\b")


def test_every_environment_variable_the_pages_name_is_in_the_code() -> None:
    named = {name for page in PAGES for name in _VARIABLE.findall(_text(page))}
    assert named - _string_literals() == set()


def _variables_the_client_reads() -> set[str]:
    client = {
        path: source
        for path, source in _SOURCES.items()
        if path.is_relative_to(ROOT / "jobs_transports")
    }
    read = {
        node.value
        for source in client.values()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _VARIABLE.fullmatch(node.value)
    }
    assert "JOBS_DIRECT_ACCESS" in read  # the scan sees names kept in tables, not only in calls
    return read


def test_every_variable_the_client_reads_is_in_the_pages() -> None:
    named = {name for page in PAGES for name in _VARIABLE.findall(_text(page))}
    assert _variables_the_client_reads() - named == set()


def test_every_variable_the_client_reads_is_in_the_command_line_help() -> None:
    # The README says `jobs-client --help` lists the environment variables; it listed the four
    # JOBS_* that stand for options, not those choosing or overriding the configuration files.
    from jobs_transports.cli._arguments import parser

    authenticators = {"SNOWFLAKE_JWT"}  # a value of `authenticator`, not a variable
    shown = set(_VARIABLE.findall(parser().format_help()))
    assert _variables_the_client_reads() - authenticators - shown == set()


def test_the_exit_statuses_in_the_readme_are_the_cli_s() -> None:
    from jobs_transports.cli._exits import Exit

    table = re.search(r"^\| exit status \|.*?\n\n", _text(ROOT / "README.md"), re.M | re.S)
    assert table is not None
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table.group(), re.M)}
    assert documented == {int(status) for status in Exit}


def _anchor(heading: str) -> str:
    """Return GitHub's anchor of a heading: lower case, punctuation dropped, spaces as '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_link_resolves_inside_the_repository(page: Path) -> None:
    text = _text(page)
    assert "/work/" not in text
    assert "../" not in text
    for target in _LINK.findall(text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_relative_to(ROOT), target
        assert linked.exists(), target
        if anchor:
            headings = re.findall(r"^#+ (.*)$", _text(linked), re.M)
            assert anchor in {_anchor(heading) for heading in headings}, target


def _resolves(dotted: str) -> bool:
    """Return True if `dotted` is a module, or an attribute of one, of the packages."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_every_dotted_name_the_pages_use_exists() -> None:
    names = {
        name
        for page in PAGES
        for name in re.findall(
            r"`((?:jobs_core|jobs_transports|jobs_emulator)\.[\w.]+)", _text(page)
        )
    }
    loggers = {
        node.args[0].value
        for source in _SOURCES.values()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "getLogger"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert {name for name in names if not _resolves(name)} - loggers == set()


@pytest.mark.parametrize(("name", "code"), SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_every_name_a_snippet_imports_is_exported(name: str, code: str) -> None:
    tree = compile(code, name, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in PACKAGES:
            exported = importlib.import_module(node.module).__all__
            assert {alias.name for alias in node.names} <= set(exported), name
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in PACKAGES
        ):
            assert node.attr in importlib.import_module(node.value.id).__all__, name


def test_every_effect_is_in_the_design_table() -> None:
    from jobs_core._effects import Effect

    rows = set(re.findall(r"^\| `(\w+)` \|", _text(ROOT / "docs" / "design.md"), re.M))
    assert {effect.__name__ for effect in typing.get_args(Effect)} <= rows


def test_every_error_type_is_listed_where_the_pages_list_them() -> None:
    errors = {
        name
        for package in ("jobs_core", "jobs_transports")
        for name in importlib.import_module(package).__all__
        if isinstance(found := getattr(importlib.import_module(package), name), type)
        and issubclass(found, jobs_core.JobError)
    }
    readme = re.search(r"^Errors all derive from .*?\n\n", _text(ROOT / "README.md"), re.M | re.S)
    protocol = re.search(
        r"^## Errors\n\n.*?(?:\n\n|\Z)", _text(ROOT / "docs" / "protocol.md"), re.M | re.S
    )
    assert readme is not None
    assert protocol is not None
    for listing in (readme.group(), protocol.group()):
        assert {error for error in errors if not re.search(rf"\b{error}`", listing)} == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_named_in_its_package_docstring(package: str) -> None:
    # The README sends maintainers there "to find where a rule lives".
    doc = importlib.import_module(package).__doc__ or ""
    modules = {path.stem for path in (ROOT / package).glob("*.py")} - {"__init__", "__main__"}
    assert {module for module in modules if f"`{module}`" not in doc} == set()


def test_the_wait_defaults_the_readme_states_are_the_code_s() -> None:
    readme = " ".join(_text(ROOT / "README.md").split())
    assert f"gives up after `timeout_s`, {jobs_core.DEFAULT_TIMEOUT_S} s" in readme
    assert f"`poll_interval_s` ({jobs_core.DEFAULT_POLL_INTERVAL_S} s)" in readme


def test_every_command_line_option_the_pages_name_exists() -> None:
    from jobs_emulator.__main__ import _parser as emulator_parser
    from jobs_transports.cli._arguments import _long_options, parser

    named = {
        option
        for page in PAGES
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", _text(page))
    }
    plugin = {literal for literal in _string_literals() if literal.startswith("--jobs-")}
    others = {"--strict", "--no-deps"}  # mypy's, in `make lint`; pip's, making the wheel
    known = _long_options(parser()) | _long_options(emulator_parser()) | plugin | others
    assert named - known == set()
