"""Key-pair login tokens: Snowflake's claims, RS256, verifiable with the public key."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jobs_core import JobConfigurationError, Secrets
from jobs_transports._key_pair import KeyPairSigner, fingerprint, load_private_key
from tests.accounts.conftest import PASSPHRASE, KeyFiles


def test_the_claims(keys: KeyFiles) -> None:
    key = load_private_key(str(keys.encrypted), PASSPHRASE, "test")
    signer = KeyPairSigner("myorg-acc.us-east-1", "alice", key, clock=lambda: 1000.7)
    token = signer.sign()
    claims = jwt.decode(token, keys.public_pem, algorithms=["RS256"], options={"verify_exp": False})
    der = serialization.load_pem_public_key(keys.public_pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = base64.b64encode(hashlib.sha256(der).digest()).decode()
    assert claims == {
        "iss": f"MYORG-ACC.ALICE.SHA256:{digest}",
        "sub": "MYORG-ACC.ALICE",
        "iat": 1000,
        "exp": 4600,
    }
    assert fingerprint(key) == f"SHA256:{digest}"
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert "BEGIN" not in repr(signer)


def test_plain_and_encrypted_keys_are_the_same_key(keys: KeyFiles) -> None:
    plain = load_private_key(str(keys.plain), None, "test")
    encrypted = load_private_key(str(keys.encrypted), PASSPHRASE, "test")
    assert fingerprint(plain) == fingerprint(encrypted)


def test_each_signed_login_is_a_secret_of_the_client(keys: KeyFiles) -> None:
    secrets = Secrets()
    key = load_private_key(str(keys.plain), None, "test")
    assertion = KeyPairSigner("acc", "alice", key, secrets=secrets).sign()
    assert assertion in secrets.masks


def _written(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def _not_keys(folder: Path, keys: KeyFiles) -> dict[str, str]:
    """Files that hold no private key this client can read, by what they hold."""
    return {
        "empty": _written(folder, "empty", b""),
        "garbage": _written(folder, "garbage", b"\x00\x01 not a key"),
        "public key": _written(folder, "public.pem", keys.public_pem.encode()),
        "bad PEM": _written(
            folder, "bad.pem", b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
        ),
    }


@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_a_file_that_is_no_private_key_is_not_blamed_on_the_passphrase(
    tmp_path: Path, keys: KeyFiles, passphrase: str | None
) -> None:
    for what, path in _not_keys(tmp_path, keys).items():
        with pytest.raises(JobConfigurationError) as caught:
            load_private_key(path, passphrase, "test")
        message = str(caught.value)
        assert f"private_key_path: {path}: not a private key" in message, what
        assert "passphrase" not in message, what


def test_an_openssh_key_says_how_to_convert_it(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    openssh = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path = _written(tmp_path, "id_rsa", openssh)
    for passphrase in (None, PASSPHRASE):
        with pytest.raises(JobConfigurationError, match=r"OpenSSH.*ssh-keygen -p -m PKCS8"):
            load_private_key(path, passphrase, "test")


def test_a_wrong_passphrase_is_named(keys: KeyFiles) -> None:
    with pytest.raises(JobConfigurationError) as caught:
        load_private_key(str(keys.encrypted), "wrong " + PASSPHRASE, "test")
    assert "the passphrase does not decrypt it" in str(caught.value)
    assert PASSPHRASE not in str(caught.value)
