"""The `jobs-emulator` command (`python -m jobs_emulator`): serves until interrupted."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpcore
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jobs_emulator.__main__ import _parser, main
from jobs_emulator._key_pairs import fingerprint


def test_the_command_serves_until_interrupted() -> None:
    command = [sys.executable, "-m", "jobs_emulator", "--token", "t1=alice", "--clock", "manual"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        assert "snowflake connect kwargs" in process.stdout.readline()
        base_url = match.group(1)
        with httpcore.ConnectionPool() as pool:
            refused = pool.request("GET", f"{base_url}/v1alpha1/jobs")
            allowed = pool.request(
                "GET", f"{base_url}/v1alpha1/jobs", headers={"Authorization": "Bearer t1"}
            )
            clock = pool.request("GET", f"{base_url}/_emulator/clock")
        assert (refused.status, allowed.status) == (401, 200)
        assert b'"manual": true' in clock.content
        # SIGTERM rather than SIGINT: a background job of a shell inherits SIGINT ignored.
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--token", "no-user"], "TOKEN=USER"),
        (["--pat", "ALICE"], "USER=TOKEN"),
        (["--public-key", "ALICE=/nonexistent/key.pub"], "cannot read the public key file"),
        (["--pat", "A=secret-1", "--pat", "A=secret-2"], "--pat is given twice for user A"),
        (["--token-ttl", "0"], "token_ttl_s must be a finite number > 0"),
        (["--token-ttl", "inf"], "token_ttl_s must be a finite number > 0"),
        (["--port", "70000"], "port must be an integer from 0 to 65535"),  # was a traceback
        (["--host", ""], "host must be a non-empty address"),
        (["--default-user", " "], "default_user must be a non-empty string"),
    ],
)
def test_bad_arguments_are_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "secret-" not in err


def test_the_command_registers_users(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "alice.pub"
    key_file.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    command = [sys.executable, "-m", "jobs_emulator", "--user", "ALICE"]
    command += ["--public-key", f"ALICE={key_file}", "--pat", "BOB=tok", "--token-ttl", "60"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
        assert match
        base_url = match.group(1)
        now = int(time.time())
        claims = {
            "iss": f"EMULATOR.ALICE.{fingerprint(key.public_key())}",
            "sub": "EMULATOR.ALICE",
            "iat": now,
            "exp": now + 60,
        }
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": jwt.encode(claims, key, algorithm="RS256"),
            "scope": base_url.removeprefix("http://"),
        }
        with httpcore.ConnectionPool() as pool:
            refused = pool.request("GET", f"{base_url}/v1alpha1/jobs")
            by_pat = pool.request(
                "GET", f"{base_url}/v1alpha1/jobs", headers={"Authorization": "Bearer tok"}
            )
            exchanged = pool.request(
                "POST",
                f"{base_url}/oauth/token",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                content=urlencode(form).encode(),
            )
        after = time.time()
        assert (refused.status, by_pat.status, exchanged.status) == (401, 200, 200)
        token = jwt.decode(exchanged.content, options={"verify_signature": False})
        assert token["sub"] == "ALICE"
        # A TTL of 60 s from when it was issued: bounded by the wall time around the exchange,
        # however long a loaded machine took over it.
        assert now + 60 <= token["exp"] <= after + 60
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def test_a_port_in_use_is_one_line_and_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    handler = signal.getsignal(signal.SIGTERM)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # Was argparse's usage and "[Errno 98] error while attempting to bind on address
        # ('127.0.0.1', PORT): address already in use", with the status of a bad argument.
        assert main(["--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"jobs-emulator: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
    assert signal.getsignal(signal.SIGTERM) is handler  # main() leaves the process as it was


def test_a_token_ending_in_equals_signs_keeps_them() -> None:
    # Split at the first "=", "dG9rZW4==alice" was the token "dG9rZW4" for the user "=alice".
    args = _parser().parse_args(["--token", "dG9rZW4==alice", "--pat", "BOB=cGF0=="])
    assert (args.token, args.pat) == ([("dG9rZW4=", "alice")], [("BOB", "cGF0==")])
