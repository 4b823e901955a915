"""Key-pair login tokens: Snowflake's claims, RS256, verifiable with the public key."""

from __future__ import annotations

import base64
import hashlib

import jwt
from cryptography.hazmat.primitives import serialization

from jobs_core import Secrets
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
