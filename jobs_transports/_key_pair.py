"""Key-pair login tokens: the user's RSA private key, loaded once, signing RS256 JWTs.

The claims are Snowflake's key-pair login token (docs/connecting.md): ``iss`` =
``ACCOUNT.USER.SHA256:<fingerprint>``, ``sub`` = ``ACCOUNT.USER``, ``iat`` now, ``exp`` at most an
hour later; the fingerprint is the base64 of the SHA-256 of the public key's DER
SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from jobs_core import JobConfigurationError, Secrets

ASSERTION_LIFETIME_S = 3600
_OPENSSH = b"-----BEGIN OPENSSH PRIVATE KEY-----"


def load_private_key(path: str, passphrase: str | None, where: str) -> RSAPrivateKey:
    """Return the RSA private key in PEM or DER file `path`, decrypted with `passphrase`.

    Raises:
        JobConfigurationError: the file cannot be read, is not an RSA private key in PEM or DER
            (an OpenSSH key says how to convert it), or cannot be decrypted with `passphrase` (or
            needs one). The passphrase is never shown.
    """
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise JobConfigurationError(
            f"{where}: private_key_path: cannot read {file}: {exc.strerror}"
        ) from exc
    if data.lstrip().startswith(_OPENSSH):
        raise JobConfigurationError(
            f"{where}: private_key_path: {file}: an OpenSSH key, which Snowflake does not take: "
            f"convert a copy to PKCS#8 with `ssh-keygen -p -m PKCS8 -f COPY`"
        )
    try:
        key = _load(data, passphrase)
    except TypeError as exc:
        # cryptography says whether a passphrase was missing or superfluous.
        raise JobConfigurationError(
            f"{where}: private_key_passphrase: {file}: {_passphrase_problem(passphrase)}"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        # The same ValueError says "wrong passphrase" and "not a key": only an encrypted key
        # (refused without a passphrase) can have a wrong one.
        what = "not a private key (PEM or DER)"
        if passphrase and _is_encrypted(data):
            what = "the passphrase does not decrypt it, or its cipher is not supported"
        raise JobConfigurationError(f"{where}: private_key_path: {file}: {what}") from exc
    if not isinstance(key, RSAPrivateKey):
        raise JobConfigurationError(f"{where}: private_key_path: {file}: not an RSA key")
    return key


def _load(data: bytes, passphrase: str | None) -> PrivateKeyTypes:
    password = passphrase.encode("utf-8") if passphrase else None
    if data.lstrip().startswith(b"-----"):
        return serialization.load_pem_private_key(data, password=password)
    return serialization.load_der_private_key(data, password=password)


def _is_encrypted(data: bytes) -> bool:
    """Return whether `data` is a private key that cannot be loaded without a passphrase."""
    try:
        _load(data, None)
    except TypeError:
        return True
    except (ValueError, UnsupportedAlgorithm):
        pass
    return False


def _passphrase_problem(passphrase: str | None) -> str:
    if passphrase:
        return "the key is not encrypted, but a passphrase is set"
    return "the key is encrypted: set private_key_passphrase"


def fingerprint(key: RSAPrivateKey) -> str:
    """Return ``SHA256:<base64 of the SHA-256 of the public key's DER SubjectPublicKeyInfo>``."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


class KeyPairSigner:
    """Signs key-pair login tokens for one user of one account."""

    def __init__(
        self,
        account: str,
        user: str,
        key: RSAPrivateKey,
        *,
        clock: Callable[[], float] = time.time,
        secrets: Secrets | None = None,
    ) -> None:
        """Each login token signed is added to `secrets` (the client's) before it is sent."""
        # Snowflake's account part of the claims drops any region suffix and is upper-case.
        self._qualified = f"{account.split('.')[0].upper()}.{user.upper()}"
        self._issuer = f"{self._qualified}.{fingerprint(key)}"
        self._key = key
        self._clock = clock
        self._secrets = secrets

    def __repr__(self) -> str:
        return f"KeyPairSigner({self._qualified})"

    def sign(self) -> str:
        """Return a fresh RS256 JWT valid for an hour, added to the client's secrets."""
        now = int(self._clock())
        claims = {
            "iss": self._issuer,
            "sub": self._qualified,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
        }
        assertion = jwt.encode(claims, self._key, algorithm="RS256")
        if self._secrets is not None:
            self._secrets.add(assertion)
        return assertion
