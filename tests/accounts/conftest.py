"""Fixtures for the account tests: a clean home directory, RSA keys, a key-pair login."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import jobs_emulator
from tests.accounts.accounts_setup import write_yaml

PASSPHRASE = "correct horse battery staple"
SECRET_TOKEN = "pat-5ecret-t0ken-value"
PASSWORD = "hunter2-password"


_SNOWFLAKE_FILES = ("SNOWFLAKE_HOME", "SNOWFLAKE_DEFAULT_CONNECTION_NAME")


@attrs.frozen
class KeyFiles:
    """A key pair on disk: the private key (plain and encrypted) and the public key as PEM."""

    plain: Path
    encrypted: Path
    public_pem: str
    private_pem: str


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary home and working directory, with no JOBS_* or RAI_* variables, nor those that
    say where Snowflake's files are."""
    for name in list(os.environ):
        if name.startswith(("JOBS_", "RAI_")) or name in _SNOWFLAKE_FILES:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    work = home / "work" / "project"
    work.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    folder = tmp_path_factory.mktemp("keys")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    plain = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    (folder / "rsa_key.p8").write_bytes(plain)
    (folder / "rsa_key_enc.p8").write_bytes(encrypted)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyFiles(
        folder / "rsa_key.p8", folder / "rsa_key_enc.p8", public.decode(), plain.decode()
    )


@pytest.fixture
def key_pair_home(home: Path, emu: jobs_emulator.Emulator, keys: KeyFiles) -> Iterator[Path]:
    """`home` with a raiconfig.yaml logging ALICE in with the plain private key to the module's
    `emu` (faults cleared after the test)."""
    write_yaml(home, emu, {"authenticator": "jwt", "private_key_path": str(keys.plain)}, "ALICE")
    yield home
    emu.faults.clear()
