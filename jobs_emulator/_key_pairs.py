"""Snowflake's key-pair login token: an RS256 JWT signed with the user's private key.

Claims: `iss` = `ACCOUNT.USER.SHA256:<fingerprint>`, `sub` = `ACCOUNT.USER`,
`iat` = when it was made, `exp` = when it stops being valid (at most an hour later). ACCOUNT and
USER are upper-cased; the fingerprint is the base64 SHA-256 of the public key in DER
SubjectPublicKeyInfo form. The same token logs in to the SQL API (`SNOWFLAKE_JWT`) and is the
assertion of the `/oauth/token` exchange.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

MAX_LIFETIME_S = 3600
"""The longest `exp - iat` Snowflake accepts."""
CLOCK_SKEW_S = 60
"""How far ahead of the emulator's clock a client's `iat` may be."""


class KeyPairError(Exception):
    """A key-pair token that does not prove who it names; the message is safe to show."""


@attrs.frozen
class Claims:
    """The verified facts of a key-pair token."""

    account: str
    """Upper-cased, as signed."""
    user: str
    """Upper-cased, as signed."""
    fingerprint: str
    """`SHA256:<base64>` of the key the token claims to be signed with."""


def load_public_key(pem: str, user: str) -> RSAPublicKey:
    """Return the RSA public key in the PEM text `pem`, registered for `user`.

    Raise `ValueError` (naming the user) when the text is not a PEM RSA public key.
    """
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"the public_key of user {user!r} is not a PEM public key") from exc
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"the public_key of user {user!r} must be an RSA key")
    return key


def fingerprint(key: RSAPublicKey) -> str:
    """Return `SHA256:<base64 of the SHA-256 of the DER SubjectPublicKeyInfo>` of `key`."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def read_claims(token: str, now: float) -> Claims:
    """Return the claims of the key-pair token `token`, checked but NOT its signature.

    Checks the header (`RS256`), `iss`/`sub` shape and agreement, and that `iat` and `exp` are
    sane at `now` (POSIX seconds). Raises `KeyPairError` otherwise.
    """
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise KeyPairError(f"the assertion is not a JWT: {exc}") from None
    if header.get("alg") != "RS256":
        raise KeyPairError(f"the JWT must be signed RS256, not {header.get('alg')!r}")
    subject, issuer = claims.get("sub"), claims.get("iss")
    if not isinstance(subject, str) or subject.count(".") != 1 or subject != subject.upper():
        raise KeyPairError("the JWT's sub must be ACCOUNT.USER, upper-cased")
    if not isinstance(issuer, str) or not issuer.startswith(subject + ".SHA256:"):
        raise KeyPairError(
            "the JWT's iss must be ACCOUNT.USER.SHA256:<fingerprint> (sub's ACCOUNT.USER)"
        )
    _check_times(claims.get("iat"), claims.get("exp"), now)
    account, user = subject.split(".")
    return Claims(account, user, issuer[len(subject) + 1 :])


def verify(token: str, key: RSAPublicKey, now: float) -> Claims:
    """Return the claims of `token` once its signature is checked against `key`.

    Raise `KeyPairError` when `read_claims` does, when the token's fingerprint is not `key`'s, or
    when the signature does not verify.
    """
    claims = read_claims(token, now)
    expected = fingerprint(key)
    if claims.fingerprint != expected:
        raise KeyPairError(
            f"the JWT's issuer fingerprint {claims.fingerprint} is not the fingerprint of the"
            f" public key registered for {claims.user} ({expected})"
        )
    try:
        # Times were checked above against the emulator's own clock.
        jwt.decode(
            token, key, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False}
        )
    except jwt.PyJWTError:
        raise KeyPairError(
            f"the JWT's signature does not verify with the public key registered for {claims.user}"
        ) from None
    return claims


def _check_times(issued: Any, expires: Any, now: float) -> None:
    if not _is_number(issued) or not _is_number(expires):
        raise KeyPairError("the JWT must carry numeric iat and exp claims")
    if issued > now + CLOCK_SKEW_S:
        raise KeyPairError("the JWT's iat is in the future")
    if expires <= now:
        raise KeyPairError("the JWT has expired (exp is in the past)")
    if expires - issued > MAX_LIFETIME_S + CLOCK_SKEW_S:
        raise KeyPairError(f"the JWT's lifetime (exp - iat) must be at most {MAX_LIFETIME_S} s")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
