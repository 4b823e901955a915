"""The `jobs` command line in-process against the emulator: outputs, exit statuses, messages."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
import uuid
from pathlib import Path

import pytest

import jobs_emulator
from jobs_core import JobExpanded
from jobs_transports import connect_sync
from jobs_transports.cli import main
from jobs_transports.cli._exits import Terminated
from jobs_transports.cli._main import in_cli_terms
from jobs_transports.cli._output import OutputError, print_jobs

Capture = pytest.CaptureFixture[str]


def jobs(emu: jobs_emulator.Emulator, *args: str) -> int:
    return main([*args, "--base-url", emu.base_url])


def script(**emulate: object) -> str:
    return json.dumps({"emulate": emulate})


def test_every_command_in_json_and_table(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture
) -> None:
    emu = module_real_emu
    # --json before the command, --output after it: both are global options.
    args = ("--json", "create", "Predictive", "cli-w", script(duration_s=0.2, events=2), "--wait")
    assert jobs(emu, *args) == 0
    out, err = capsys.readouterr()
    created = json.loads(out)
    job_id = created["id"]
    assert created["state"] == "COMPLETED"
    assert created["created_on"].endswith("+00:00")  # ISO-8601, not str(datetime)
    assert err.splitlines()[0] == f"jobs: created Predictive job {job_id}"

    assert jobs(emu, "get", "Predictive", job_id, "--include", "details,events") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "id", "reasoner_type", "state", "name", "created_by", "created_on", "duration_s",
        "abort_reason", "details", "events",
    ]  # fmt: skip
    assert row.startswith(job_id)
    assert "2 event(s)" in row
    assert "Z " in row  # the short timestamp: whole seconds in UTC

    assert jobs(emu, "get", "Predictive", job_id, "--output", "json", "--include", "events") == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["events"]["events"]) == 2
    assert "details" not in document  # not asked for

    assert jobs(emu, "list", "Predictive", "--name", "cli-w", "--limit", "5", "--json") == 0
    assert [job["id"] for job in json.loads(capsys.readouterr().out)["jobs"]] == [job_id]

    assert jobs(emu, "events", "Predictive", job_id, "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"]["index"] for line in lines[:-1]] == [1, 2]
    assert lines[-1] == {"continuation_token": None}

    assert jobs(emu, "create", "Prescriptive", "cli-s", script(duration_s=30)) == 0
    slow_id = capsys.readouterr().out.strip()
    assert jobs(emu, "cancel", "Prescriptive", slow_id, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "id": slow_id, "reasoner_type": "Prescriptive", "cancel_requested": True,
    }  # fmt: skip
    assert jobs(emu, "cancel", "Prescriptive", slow_id) == 0
    assert capsys.readouterr().out == f"cancel requested for Prescriptive job {slow_id}\n"


@pytest.mark.parametrize(
    ("emulate", "status", "said"),
    [
        ({"duration_s": 0.1}, 0, None),
        ({"duration_s": 0.1, "outcome": "FAILED", "abort_reason": "oom"}, 3, "FAILED: oom"),
        ({"duration_s": 0.1, "outcome": "ABORTED"}, 3, "ended ABORTED"),
    ],
)  # fmt: skip
def test_wait_exits_with_the_outcome_of_the_job(
    module_real_emu: jobs_emulator.Emulator,
    capsys: Capture,
    emulate: dict[str, object],
    status: int,
    said: str | None,
) -> None:
    assert jobs(module_real_emu, "create", "Predictive", "w", json.dumps({"emulate": emulate})) == 0
    job_id = capsys.readouterr().out.strip()
    assert jobs(module_real_emu, "wait", "Predictive", job_id, "--poll", "0.05", "--json") == status
    out, err = capsys.readouterr()
    assert json.loads(out)["id"] == job_id  # the final job is printed whatever the outcome
    if said is not None:
        assert said in err


def test_wait_on_a_cancelled_job_a_timeout_and_a_missing_id(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture
) -> None:
    with connect_sync(base_url=module_real_emu.base_url) as client:
        slow = client.create("Prescriptive", "w", {"emulate": {"duration_s": 30}}).id
        cancelled = client.create("Prescriptive", "w", {"emulate": {"duration_s": 30}}).id
        client.cancel("Prescriptive", cancelled)

    assert jobs(module_real_emu, "wait", "Prescriptive", cancelled) == 4
    assert "ended CANCELED" in capsys.readouterr().err

    assert (
        jobs(module_real_emu, "wait", "Prescriptive", slow, "--timeout", "0.3", "--poll", "0.1")
        == 5
    )
    out, err = capsys.readouterr()
    assert out == ""
    assert "did not finish within 0.3s" in err
    assert f"jobs cancel Prescriptive {slow}" in err

    assert (
        jobs(module_real_emu, "wait", "Logic", "no-such-id", "--grace", "0.2", "--poll", "0.05")
        == 6
    )
    assert "Logic job no-such-id not found (not visible after 0.2s)" in capsys.readouterr().err
    assert jobs(module_real_emu, "get", "Logic", "no-such-id") == 6


def test_a_wait_whose_timeout_ends_before_its_grace_never_saw_the_job_not_found(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture
) -> None:
    args = ("wait", "Logic", "no-such-id", "--timeout", "0.2", "--grace", "5", "--poll", "0.05")
    assert jobs(module_real_emu, *args) == 6
    err = capsys.readouterr().err
    assert "Logic job no-such-id not found (not seen before --timeout 0.2s ended the wait)" in err
    assert "still running" not in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def progress_drawn(
    emulator: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch, term: str
) -> str:
    """Return what `create --wait` drew on a terminal whose TERM is `term`."""
    monkeypatch.setenv("TERM", term)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    args = ("create", "Predictive", "w", script(duration_s=0.3), "--wait", "--poll", "0.05")
    assert jobs(emulator, *args) == 0
    return terminal.getvalue()


def test_progress_is_redrawn_on_a_terminal_and_the_line_ended(
    module_real_emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = progress_drawn(module_real_emu, monkeypatch, "xterm")
    assert drawn.count("\r\x1b[2K") >= 2
    assert drawn.endswith("COMPLETED (0s)\n")  # the last drawing ends its line


def test_a_dumb_terminal_gets_plain_progress_lines(
    module_real_emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # TERM=dumb (Emacs shells, some CI consoles) shows escape sequences as text.
    drawn = progress_drawn(module_real_emu, monkeypatch, "dumb")
    assert "\x1b" not in drawn
    assert "\r" not in drawn
    assert drawn.endswith(": COMPLETED\n")


def test_payload_from_a_file_and_from_stdin(
    module_real_emu: jobs_emulator.Emulator,
    capsys: Capture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text(script(duration_s=0.1))
    assert jobs(module_real_emu, "create", "Predictive", "from-file", f"@{payload}", "--wait") == 0
    monkeypatch.setattr("sys.stdin", stdin(script(duration_s=0.1).encode()))
    assert jobs(module_real_emu, "create", "Predictive", "from-stdin", "-", "--wait") == 0
    capsys.readouterr()

    assert jobs(module_real_emu, "create", "Predictive", "w", f"@{tmp_path / 'missing.json'}") == 2
    assert "cannot read PAYLOAD file" in capsys.readouterr().err
    assert jobs(module_real_emu, "create", "Predictive", "w", "[1, 2]") == 2
    assert "PAYLOAD must be a JSON object, not list" in capsys.readouterr().err
    assert jobs(module_real_emu, "create", "Predictive", "w", "{not json") == 2
    assert "PAYLOAD is not JSON" in capsys.readouterr().err


def stdin(data: bytes) -> io.TextIOWrapper:
    """Return a standard input that holds `data`, as a process sees it (text over bytes)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")


DEEP = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize(
    ("source", "data", "said"),
    [
        ("file", b'{"a": "\xff"}', "PAYLOAD file {path} is not UTF-8 text"),
        ("stdin", b'{"a": "\xff"}', "PAYLOAD from stdin is not UTF-8 text"),
        ("file", DEEP.encode(), "PAYLOAD file {path} is not JSON: nested too deeply"),
        ("stdin", DEEP.encode(), "PAYLOAD from stdin is not JSON: nested too deeply"),
        ("text", DEEP, "PAYLOAD is not JSON: nested too deeply"),
        ("closed stdin", None, "PAYLOAD - reads stdin, which is closed"),
    ],
)  # fmt: skip
def test_a_payload_that_cannot_be_read_as_json_exits_2_before_any_request(
    capsys: Capture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    data: bytes | str | None,
    said: str,
) -> None:
    path = tmp_path / "payload.json"
    argument = "-"
    if source == "file":
        assert isinstance(data, bytes)
        path.write_bytes(data)
        argument = f"@{path}"
    elif source == "text":
        assert isinstance(data, str)
        argument = data
    else:
        assert not isinstance(data, str)
        monkeypatch.setattr("sys.stdin", None if data is None else stdin(data))
    # Port 9 (discard) on loopback: a request would fail with status 1, not 2.
    assert main(["create", "Predictive", "w", argument, "--base-url", "http://127.0.0.1:9"]) == 2
    assert said.format(path=path) in capsys.readouterr().err


@pytest.mark.parametrize("variable", [False, True])
def test_snowflake_arguments_nested_too_deeply_exit_2(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, variable: bool
) -> None:
    if variable:
        monkeypatch.setenv("JOBS_SNOWFLAKE", DEEP)
        assert main(["list"]) == 2
        assert "JOBS_SNOWFLAKE is not JSON: nested too deeply" in capsys.readouterr().err
    else:
        assert main(["list", "--snowflake", DEEP]) == 2
        assert "--snowflake is not JSON: nested too deeply" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("get", "Batch", "x"), "Expected: Logic, Prescriptive, or Predictive"),
        (("get", "Logic", " "), "JOB_ID must be a non-empty string"),
        (("list", "--job-id", " "), "--job-id must be a non-empty string"),
        (("get", "Logic", "x", "--include", "bogus"), "Unknown --include key 'bogus'"),
        (("list", "--limit", "0"), "argument --limit: must be a whole number >= 1, not '0'"),
        (("list", "--offset", "-1"), "argument --offset: must be a whole number >= 0"),
        (("wait", "Logic", "x", "--poll", "20"), "--poll: must be a number of seconds above 0"),
        (("wait", "Logic", "x", "--timeout", "nan"), "--timeout: must be a number of seconds > 0"),
        (("events", "Logic", "x", "--token", "t", "--continuation-token"), "expected one argument"),
        (("list", "--snowflake", "{"), "--snowflake is not JSON"),
        (("list", "--snowflake", "[]"), "--snowflake must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_usage_exits_2_naming_the_option(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture, args: tuple[str, ...], said: str
) -> None:
    assert jobs(module_real_emu, *args) == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "--tokn", "s3cret"],
        ["list", "Logic", "--tokn", "s3cret"],
        ["get", "Logic", "x", "--tokn=s3cret"],
        ["get", "Logic", "x", "--tokn", "s3cret"],
        ["--tokn", "s3cret", "list"],
        ["wait", "Logic", "x", "--t=s3cret"],  # --t begins both --token and --timeout
    ],
)
def test_a_misspelt_option_is_named_but_its_value_never_shown(
    capsys: Capture, argv: list[str]
) -> None:
    # The value after a misspelt --token is the token: it must not reach a CI log.
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unrecognized option --tokn" in err or "ambiguous option: --t could match" in err
    assert "s3cret" not in err


def test_abbreviated_options_and_values_that_look_like_options_still_work(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture
) -> None:
    assert jobs(module_real_emu, "list", "--lim", "1", "--offset", "0") == 0
    url = module_real_emu.base_url
    assert main(["get", "--base-url", url, "Logic", "--", "--no-such-id"]) == 6
    assert "Logic job --no-such-id not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("Logic", "cancel --all-users for Logic needs the SQL backend"),
        ("Predictive", "cancel --all-users is only supported for Logic transactions"),
    ],
)
def test_what_the_backend_cannot_do_exits_2_in_cli_terms(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture, kind: str, said: str
) -> None:
    # Over Direct Access alone, --all-users cannot be sent: usage, not a failing service.
    assert jobs(module_real_emu, "cancel", kind, "x", "--all-users") == 2
    err = capsys.readouterr().err
    assert said in err
    assert "all_users" not in err


def test_library_keywords_are_named_as_options() -> None:
    assert in_cli_terms("timeout_s must be a number > 0") == "--timeout must be a number > 0"
    assert (
        in_cli_terms("include='artifacts' is only for Logic")
        == "--include 'artifacts' is only for Logic"
    )
    assert (
        in_cli_terms("continuation_token must be a string")
        == "--continuation-token must be a string"
    )


def test_no_backend_and_a_refused_token_say_how_to_configure(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["list"]) == 2
    assert "Configure a Direct Access base URL" in capsys.readouterr().err

    with jobs_emulator.serve(tokens={"good": "alice"}) as emu:
        assert jobs(emu, "list", "--token", "wrong") == 2
        err = capsys.readouterr().err
        assert "the token from --token was refused" in err
        assert "wrong" not in err
        monkeypatch.setenv("JOBS_TOKEN", "also-wrong")
        assert jobs(emu, "list") == 2
        assert "the token from JOBS_TOKEN was refused" in capsys.readouterr().err
        monkeypatch.setenv("JOBS_TOKEN", "good")
        assert jobs(emu, "list") == 0


def test_a_missing_token_and_a_forbidden_request_are_told_apart_from_a_refused_token(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both said "the token from ... was refused; set a valid one" (or blamed a configuration
    # there was none of): a 403 for another user's transaction, and no token sent at all.
    monkeypatch.delenv("JOBS_TOKEN", raising=False)
    with jobs_emulator.serve(tokens={"tok-alice": "alice", "tok-bob": "bob"}) as emu:
        with connect_sync(base_url=emu.base_url, token="tok-alice") as alice:
            transaction = alice.create("Logic", "e", {"database": "d", "query": "q"}).id
        assert jobs(emu, "list") == 2
        err = capsys.readouterr().err
        assert "no token was sent to the Direct Access API of --base-url" in err
        assert "configuration" not in err
        assert jobs(emu, "events", "Logic", transaction, "--token", "tok-bob") == 2
        err = capsys.readouterr().err
        assert "belongs to another user" in err
        assert "accepted the token from --token" in err
        assert "refused" not in err
        assert "tok-bob" not in err


def test_config_shows_the_choice_without_secrets(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = {
        "account": "acme",
        "user": "ALICE",
        "password": "hunter2",
        "private_key_file_pwd": "pw",
    }
    monkeypatch.setenv("JOBS_SNOWFLAKE", json.dumps(connector))
    assert main(["config", "--json", "--token", "s3cret", "--app", "RAI"]) == 0
    out = capsys.readouterr().out
    for secret in ("hunter2", "s3cret", '"pw"'):
        assert secret not in out
    described = json.loads(out)
    assert described["token"] == {"value": "set", "from": "--token"}
    assert described["snowflake"]["from"] == "JOBS_SNOWFLAKE"
    assert described["snowflake"]["value"]["user"] == "ALICE"
    assert described["backend"] == "SQL API"

    # The table said `token  {"value": "set", "from": "--token"}`: JSON where a file's settings
    # read "account  acme (the file)".
    monkeypatch.setenv("JOBS_APP", "RAI")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert '{"account": "acme", "user": "ALICE", "password": "set"' in out
    assert "(JOBS_SNOWFLAKE)" in out
    assert "app        RAI (JOBS_APP)" in out
    monkeypatch.delenv("JOBS_SNOWFLAKE")
    assert main(["config", "--token", "s3cret", "--base-url", "http://h:1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "base_url  http://h:1 (--base-url)",
        "token     set (--token)",
        "app       RAI (JOBS_APP)",
        "backend   Direct Access",
    ]


def test_help_and_version(capsys: Capture) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for needed in (
        "Logic, Prescriptive, Predictive",
        "JOBS_BASE_URL",
        "JOBS_SNOWFLAKE",
        "130",
        "143  terminated by SIGTERM",
        "in seconds",
    ):
        assert needed in text
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("jobs 0.")


def test_library_warnings_stay_off_stderr_unless_asked(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import warnings

    from jobs_transports import _client_sync

    real_list = _client_sync.JobsClientSync.list

    def noisy_list(self: _client_sync.JobsClientSync, *args: object, **kwargs: object) -> object:
        warnings.warn("a connector warning", UserWarning, stacklevel=1)
        logging.getLogger("snowflake.connector").warning("a connector log line")
        return real_list(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(_client_sync.JobsClientSync, "list", noisy_list)
    assert jobs(module_real_emu, "list", "--limit", "1") == 0
    assert capsys.readouterr().err == ""
    with pytest.warns(UserWarning, match="a connector warning"):
        assert jobs(module_real_emu, "list", "--limit", "1", "-v") == 0
    assert "snowflake.connector: WARNING: a connector log line" in capsys.readouterr().err


def test_options_choose_in_the_configuration_files(
    module_real_emu: jobs_emulator.Emulator,
    capsys: Capture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    sf = module_real_emu.snowflake
    config = tmp_path / "elsewhere.toml"
    config.write_text(
        f'active_profile = "dev"\n[profile.dev]\naccount = "{sf["account"]}"\n'
        f'user = "{sf["user"]}"\npassword = "pw-s3cret"\nhost = "{sf["host"]}"\n'
        f'port = {sf["port"]}\nprotocol = "http"\nrai_app_name = "{module_real_emu.app}"\n'
    )
    # A file chosen by an option: the variables naming a backend are not read.
    monkeypatch.setenv("JOBS_BASE_URL", "http://127.0.0.1:9")
    assert main(["list", "Logic", "--limit", "1", "--config-file", str(config)]) == 0
    assert main(["config", "--json", "--config-file", str(config)]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    described = json.loads(out.splitlines()[-1])
    assert described["file"].startswith(str(config))
    assert "SQL API" in described["backend"]
    assert main(["list", "--config-file", str(config), "--profile", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


TWO = {
    "raiconfig.yaml": """
connections:
  a: {account: acme, user: ALICE, password: pw, rai_app_name: RAI}
  b: {account: acme, user: BOB, password: pw, rai_app_name: RAI}
"""
}
_KEYWORD_NAMED = re.compile(r"\b[a-z_]+=(?=[\s,]|$)|\b[a-z_]+ argument\b|backend arguments")


@pytest.mark.parametrize(
    ("files", "argv", "said"),
    [
        ({}, ["list"], "no --base-url or --snowflake, no JOBS_BASE_URL"),
        # These said "(--app...)" and "(--token...)".
        ({}, ["list", "--snowflake", '{"account": "a"}'], "the application name (--app)\n"),
        ({}, ["list", "--base-url", "http://u:p@h"], "takes a token (--token)\n"),
        ({}, ["list", "--profile", "p"], "--profile and --connection need a configuration file"),
        ({}, ["list", "--config-file", "missing.yaml"], "--config-file: "),
        (
            TWO,
            ["list", "--profile", "p", "--base-url", "http://127.0.0.1:9"],
            "--profile, --connection and --config-file pick a connection from the configuration "
            "files; they cannot be combined with --base-url or --snowflake",
        ),
        (TWO, ["list"], "name one with --connection, or set"),
        (TWO, ["list", "--connection", "c"], "(named by --connection)"),
        (TWO, ["list", "--profile", "p"], "(from --profile)"),
        ({"raiconfig.toml": "[profile.p]\n"}, ["list", "--connection", "c"], "use --profile"),
        (
            {".snowflake/connections.toml": "[a]\naccount = 'acme'\n"},
            ["list", "--profile", "p"],
            "use --connection",
        ),
    ],
)  # fmt: skip
def test_configuration_errors_name_options_not_keywords(
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    files: dict[str, str],
    argv: list[str],
    said: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("RAI_CONFIG_FILE_PATH", "RAI_PROFILE", "RAI_ACTIVE_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME", raising=False)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err
    assert not _KEYWORD_NAMED.search(err), err


def test_config_names_the_options_that_chose(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "raiconfig.yaml"
    config.write_text(TWO["raiconfig.yaml"])
    assert main(["config", "--config-file", str(config), "--connection", "b", "--app", "X"]) == 0
    out = capsys.readouterr().out
    assert "(--config-file)" in out
    assert "b (--connection)" in out
    assert not _KEYWORD_NAMED.search(out), out


def test_config_with_nothing_configured_says_so(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("RAI_CONFIG_FILE_PATH", "SNOWFLAKE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["config", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "source": "no configuration found: no JOBS_* variables and no file"
    }


def test_config_prints_what_it_can_then_the_key_problem_and_exits_2(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "raiconfig.yaml"
    config.write_text(
        f"connections:\n  sf: {{account: acme, user: ALICE, authenticator: jwt, "
        f"private_key_path: {tmp_path}/nokey, rai_app_name: RAI}}\n"
    )
    assert main(["config", "--json", "--config-file", str(config)]) == 2
    described = json.loads(capsys.readouterr().out)
    assert described["file"].startswith(str(config))
    assert "ALICE" in described["user"]
    assert "private_key_path: cannot read" in described["problem"]


HOSTILE = "n\x1b]0;title\x07\x1b[31m\u202eev\x9bil\x7f"
"""A job name a terminal would act on: an OSC title, a colour, a bidi override, C1 CSI, DEL."""


def test_text_from_the_service_or_the_user_cannot_steer_the_terminal(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture
) -> None:
    assert jobs(module_real_emu, "create", "Predictive", HOSTILE, script(duration_s=0.1)) == 0
    job_id = capsys.readouterr().out.strip()
    assert jobs(module_real_emu, "get", "Predictive", job_id) == 0
    assert jobs(module_real_emu, "events", "Predictive", job_id) == 0  # JSON lines, no --json
    table = capsys.readouterr().out
    assert "n\\x1b]0;title\\x07\\x1b[31m\\u202eev" in table  # the cell is cut to 40
    assert jobs(module_real_emu, "get", "Predictive", job_id, "--json") == 0
    text = capsys.readouterr().out
    assert json.loads(text)["name"] == HOSTILE  # the same value, escaped in JSON's own way
    assert jobs(module_real_emu, "wait", "Logic", HOSTILE, "--grace", "0", "--poll", "0.05") == 6
    err = capsys.readouterr().err
    assert "Logic job n\\x1b]0;title" in err
    for shown in (table, text, err):
        assert not any(c in shown for c in "\x1b\x07\u202e\x9b\x7f\r"), ascii(shown)


class Stdout(io.TextIOWrapper):
    """A stdout in another encoding than UTF-8 (LANG=C on an old system, a Windows console)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(io.BytesIO(), encoding=encoding)

    def text(self) -> str:
        self.flush()
        buffer = self.buffer
        assert isinstance(buffer, io.BytesIO)
        return buffer.getvalue().decode(self.encoding)


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_text_the_stdout_encoding_cannot_hold_is_escaped_and_json_stays_valid(
    module_real_emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    name = "fünf ☃ 🚀"
    with connect_sync(base_url=module_real_emu.base_url) as client:
        job_id = client.create("Predictive", name, {"emulate": {"duration_s": 0.1}}).id
    stdout = Stdout(encoding)
    monkeypatch.setattr("sys.stdout", stdout)
    assert jobs(module_real_emu, "get", "Predictive", job_id, "--json") == 0
    assert json.loads(stdout.text())["name"] == name
    stdout = Stdout(encoding)
    monkeypatch.setattr("sys.stdout", stdout)
    assert jobs(module_real_emu, "get", "Predictive", job_id) == 0
    header, row = stdout.text().splitlines()
    assert "\\u2603 \\U0001f680" in row
    # The columns were as wide as the name before its escapes, so the next ones were pushed out.
    assert row.index("emulator_user") == header.index("created_by")


def test_a_stdout_that_fails_exits_1_with_the_reason(
    module_real_emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("sys.stdout", Full())
    assert jobs(module_real_emu, "list", "--limit", "1") == 1
    assert capsys.readouterr().err == "jobs: cannot write the output: No space left on device\n"


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("list",), 1),
        (("create", "Predictive", "w", "{}"), 1),
        (("get", "Logic", "x"), 6),
        (("cancel", "Logic", "x"), 6),
        (("events", "Logic", "x"), 6),
    ],
)
def test_a_404_means_no_such_job_only_for_a_command_that_names_one(
    fresh_manual_emu: jobs_emulator.Emulator, capsys: Capture, args: tuple[str, ...], status: int
) -> None:
    # A 404 to a list or a create says the URL is wrong (a stale endpoint, a bad --base-url).
    fresh_manual_emu.faults.respond(404, '{"message": "no route"}', times=None)
    assert jobs(fresh_manual_emu, *args) == status
    assert "404" in capsys.readouterr().err or args[0] == "get"  # get: "Logic job x not found"


def nested(depth: int) -> object:
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("output", ["--json", "--output=table"])
def test_a_job_whose_payload_nests_deeply_is_printed(
    module_real_emu: jobs_emulator.Emulator, capsys: Capture, output: str
) -> None:
    # The service keeps such a payload (JSON parsers read ~1,000 levels); printing its details
    # took a Python frame per level and more, and died with a RecursionError traceback.
    with connect_sync(base_url=module_real_emu.base_url) as client:
        job_id = client.create("Predictive", "deep", {"a": nested(900)}).id
    assert jobs(module_real_emu, "get", "Predictive", job_id, "--include", "details", output) == 0
    out = capsys.readouterr().out
    if output == "--json":
        assert json.loads(out)["details"]["payload"] == {"a": nested(900)}


def test_a_document_too_deep_for_json_is_an_output_error(capsys: Capture) -> None:
    # Deeper than json's C encoder goes on any Python (3.13 writes 5,000 levels, not 20,000).
    job = JobExpanded(id="j", reasoner_type="Logic", state="RUNNING", raw={"a": nested(100_000)})
    with pytest.raises(OutputError, match="nests too deeply"):
        print_jobs([job], as_json=True, single=True)
    assert capsys.readouterr().out == ""


def test_a_closed_stdout_exits_1_and_a_closed_stderr_keeps_the_status(
    module_real_emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    # `jobs-client list >&-`: Python's sys.stdout is None; the results cannot go anywhere.
    monkeypatch.setattr("sys.stdout", None)
    assert jobs(module_real_emu, "list", "--limit", "1") == 1
    assert capsys.readouterr().err == "jobs: cannot write the output: stdout is closed\n"
    monkeypatch.undo()
    # `2>&-`: the notes are lost, the exit status still says what happened.
    monkeypatch.setattr("sys.stderr", None)
    assert jobs(module_real_emu, "get", "Logic", "no-such-id") == 6
    assert jobs(module_real_emu, "wait", "Logic", "no-such-id", "--grace", "0") == 6


def test_values_a_database_driver_returns_are_printed_as_json(capsys: Capture) -> None:
    # The Snowflake connector's rows (`--include raw` over the SQL API) hold Decimals and bytes.
    raw = {
        "N": decimal.Decimal("10"),
        "X": decimal.Decimal("1.25"),
        "B": b"\x00\xff",
        "T": dt.time(1, 2, 3),
        "U": uuid.UUID(int=1),
    }
    job = JobExpanded(id="j", reasoner_type="Logic", state="RUNNING", raw=raw)
    print_jobs([job], as_json=True, single=True)
    print_jobs([job], as_json=False, single=True)
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["raw"] == {
        "N": 10, "X": 1.25, "B": "00ff", "T": "01:02:03",
        "U": "00000000-0000-0000-0000-000000000001",
    }  # fmt: skip
    assert out[2].endswith('{"N": 10, "X": 1.25, "B": "00ff", "T": …')


def test_a_payload_read_from_a_terminal_says_how_to_end_it(
    module_real_emu: jobs_emulator.Emulator, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    class TerminalInput(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    typed = TerminalInput(io.BytesIO(script(duration_s=0.1).encode()), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", typed)
    assert jobs(module_real_emu, "create", "Predictive", "typed", "-") == 0
    out, err = capsys.readouterr()
    assert err == "jobs: reading PAYLOAD from the terminal: type the JSON, then Ctrl-D\n"
    assert out.strip()  # the new id


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, Terminated])
def test_an_interrupted_create_says_how_to_find_the_job_it_may_have_made(
    module_real_emu: jobs_emulator.Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capture,
    interrupt: type[KeyboardInterrupt],
) -> None:
    from jobs_transports import _client_sync

    def interrupted(*args: object, **kwargs: object) -> None:
        raise interrupt  # as Ctrl-C (or SIGTERM) during the request: it may have been served

    monkeypatch.setattr(_client_sync.JobsClientSync, "create", interrupted)
    status = jobs(module_real_emu, "create", "Prescriptive", "nightly run", "{}")
    assert status == (143 if interrupt is Terminated else 130)
    err = capsys.readouterr().err
    assert "the Prescriptive job may have been created" in err
    assert "jobs list Prescriptive --name 'nightly run' --active" in err  # ready to paste


def test_a_bad_variable_is_named_as_the_variable(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBS_BASE_URL", "localhost:8080")  # the scheme forgotten
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "JOBS_BASE_URL must be an http:// or https:// URL with a host" in err
    assert main(["list", "--base-url", "localhost:8080"]) == 2
    assert "--base-url must be an http:// or https:// URL" in capsys.readouterr().err
