"""Who is calling: registered users, the tokens that prove it, and the tokens the emulator issues.

Users are registered with `serve(users={"ALICE": {"public_key": PEM, "pat": TOKEN}})` (either key
optional). With users:

- SQL logins must be a registered user, by key pair (`SNOWFLAKE_JWT`, verified against the
  user's public key) or by programmatic access token (`PROGRAMMATIC_ACCESS_TOKEN`, the user's PAT).
- `/oauth/token` exchanges a verified key-pair JWT for a token bound to that user and to the
  Direct Access endpoint, valid for `token_ttl_s` seconds of wall time.
- Direct Access requests need `Authorization: Snowflake Token="T"` (or `Bearer T`) where T is an
  issued token (unexpired, for this endpoint), a user's PAT, or one of `serve(tokens=...)`.

Without users, logins are open (the login name is the user), exchanges check the JWT's claims but
cannot check its signature, and Direct Access callers are `default_user` unless `tokens` are
configured (then a token from `tokens` is required) or they present a token the emulator issued.
No message here quotes a token, a PAT or an assertion.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from jobs_emulator import _key_pairs
from jobs_emulator._key_pairs import KeyPairError
from jobs_emulator._validation import finite_number

DEFAULT_USER = "emulator_user"
ACCOUNT = "emulator"
"""The account name the emulator answers to (`emu.snowflake["account"]`)."""
DEFAULT_TOKEN_TTL_S = 3600.0

KEY_PAIR = "SNOWFLAKE_JWT"
PAT = "PROGRAMMATIC_ACCESS_TOKEN"

_AUTHORIZATION = re.compile(
    r'^\s*(?:Snowflake\s+Token\s*=\s*"(?P<snowflake>[^"]*)"|Bearer\s+(?P<bearer>\S+))\s*$',
    re.IGNORECASE,
)
_USER_KEYS = frozenset({"public_key", "pat"})
_ISSUER = "jobs-emulator"


class Unauthorized(Exception):
    """A caller who did not prove who they are; the message is safe to show."""


def authorization_token(header: str | None) -> str | None:
    """Return the token of an `Authorization` value (`Snowflake Token="T"` or `Bearer T`)."""
    match = _AUTHORIZATION.match(header or "")
    return None if match is None else match.group("snowflake") or match.group("bearer")


@attrs.frozen
class User:
    """A registered user and what proves it is them."""

    name: str
    public_key: RSAPublicKey | None = None
    pat: str | None = None


def users_from(spec: Mapping[str, Mapping[str, str]] | None) -> dict[str, User]:
    """Return the users of `serve(users=...)`, keyed by upper-cased name.

    Raise `ValueError` (naming the user and the key, never quoting a PAT) for a `spec` that is
    not a mapping, a name that is not a non-empty string, an entry that is not a mapping, an
    unknown key, a public key that is not PEM RSA text, or a PAT that is not a non-empty string.
    """
    if spec is not None and not isinstance(spec, Mapping):
        raise ValueError("users must map user names to {'public_key': PEM, 'pat': TOKEN}")
    users: dict[str, User] = {}
    for name, entry in (spec or {}).items():
        if not isinstance(name, str) or not name.strip() or "." in name:
            raise ValueError(f"user names must be non-empty strings without dots, got {name!r}")
        if not isinstance(entry, Mapping):
            raise ValueError(f"user {name!r} must map to {{'public_key': PEM, 'pat': TOKEN}}")
        unknown = sorted(set(entry) - _USER_KEYS)
        if unknown:
            raise ValueError(f"user {name!r} has unknown keys {unknown}; expected public_key, pat")
        pem, pat = entry.get("public_key"), entry.get("pat")
        if pat is not None and (not isinstance(pat, str) or not pat.strip()):
            raise ValueError(f"the pat of user {name!r} must be a non-empty string")
        if pem is not None and not isinstance(pem, str):
            raise ValueError(f"the public_key of user {name!r} must be PEM text")
        key = None if pem is None else _key_pairs.load_public_key(pem, name)
        users[name.upper()] = User(name, key, pat)
    return users


class Authenticator:
    """Who logins, assertions and Direct Access tokens belong to; thread-safe."""

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        default_user: str = DEFAULT_USER,
        *,
        users: Mapping[str, Mapping[str, str]] | None = None,
        token_ttl_s: float = DEFAULT_TOKEN_TTL_S,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`tokens` maps Direct Access tokens to users; `users` registers users (module doc).

        `wall` is the clock tokens and JWTs are judged by (POSIX seconds).
        Raise `ValueError` for bad `users` or a `token_ttl_s` that is not a finite number > 0.
        """
        ttl = finite_number(token_ttl_s)
        if ttl is None or ttl <= 0:
            raise ValueError(f"token_ttl_s must be a finite number > 0, got {token_ttl_s!r}")
        self.tokens = dict(tokens or {})
        self.default_user = default_user
        self.users = users_from(users)
        self.token_ttl_s = ttl
        self.wall = wall
        self._secret = secrets.token_bytes(32)
        self._exchanges = 0
        self._lock = threading.Lock()

    @property
    def exchanges(self) -> int:
        """Return how many tokens `exchange()` has issued."""
        with self._lock:
            return self._exchanges

    def user_for(self, authorization: str | None, endpoint: str) -> str:
        """Return the user behind a Direct Access request's `Authorization` header value.

        `endpoint` is the `HOST:PORT` the request reached (an issued token is valid there only).
        Raise `Unauthorized` when a token is required and missing, unknown, expired or issued
        for another endpoint.
        """
        token = authorization_token(authorization)
        issued = None if token is None else self._issued_user(token, endpoint)
        if isinstance(issued, str):
            return issued
        if not self.users and not self.tokens:
            return self.default_user
        if token is None:
            raise Unauthorized(
                'missing or malformed Authorization header; expected Snowflake Token="<token>"'
            )
        if issued is not None:
            raise issued
        if token in self.tokens:
            return self.tokens[token]
        user = self._pat_owner(token)
        if user is None:
            raise Unauthorized("unknown token: not a PAT, nor a token this account issued")
        return user.name

    def exchange(self, assertion: str, endpoint: str, role: str | None = None) -> str:
        """Return a token for `endpoint` (`HOST:PORT`) in exchange for a key-pair JWT.

        Raise `Unauthorized` when the JWT does not prove a registered user (module doc).
        """
        now = self.wall()
        try:
            claims = _key_pairs.read_claims(assertion, now)
            self._check_account(claims)
            name = claims.user
            if self.users:
                name = self._key_pair_user(claims.user, assertion, now).name
        except KeyPairError as exc:
            raise Unauthorized(str(exc)) from None
        issued = {"iss": _ISSUER, "sub": name, "scope": endpoint, "iat": int(now)}
        issued["exp"] = now + self.token_ttl_s
        if role is not None:
            issued["role"] = role
        token = jwt.encode(issued, self._secret, algorithm="HS256")
        with self._lock:
            self._exchanges += 1
        return token

    def sql_login(self, login_name: str, authenticator: str | None, token: str | None) -> str:
        """Return the user a SQL login request proves (the login name when no users are set).

        Raise `Unauthorized` for an unknown user, a JWT or PAT that does not prove the user, or
        another authenticator while users are configured.
        """
        if not self.users:
            return login_name
        kind = (authenticator or "").upper()
        if kind == KEY_PAIR:
            try:
                claims = _key_pairs.read_claims(token or "", self.wall())
                self._check_account(claims)
                if claims.user != login_name.upper():
                    raise KeyPairError(f"the JWT names user {claims.user}, not {login_name}")
                return self._key_pair_user(login_name.upper(), token or "", self.wall()).name
            except KeyPairError as exc:
                raise Unauthorized(str(exc)) from None
        user = self._registered(login_name.upper())
        if kind == PAT:
            if user.pat is None or not hmac.compare_digest(user.pat, token or ""):
                raise Unauthorized(f"the programmatic access token is not {user.name}'s")
            return user.name
        raise Unauthorized(
            f"user {user.name} must log in with authenticator {KEY_PAIR} or {PAT}; the emulator"
            " has no passwords once users are registered"
        )

    def _registered(self, name: str) -> User:
        user = self.users.get(name)
        if user is None:
            raise Unauthorized(f"user {name} is not registered with the emulator")
        return user

    def _key_pair_user(self, name: str, assertion: str, now: float) -> User:
        user = self._registered(name)
        if user.public_key is None:
            raise Unauthorized(f"user {user.name} has no public key registered")
        _key_pairs.verify(assertion, user.public_key, now)
        return user

    def _check_account(self, claims: _key_pairs.Claims) -> None:
        if claims.account != ACCOUNT.upper():
            raise KeyPairError(
                f"the JWT names account {claims.account}; this emulator is account"
                f" {ACCOUNT.upper()}"
            )

    def _pat_owner(self, token: str) -> User | None:
        owners = [u for u in self.users.values() if u.pat and hmac.compare_digest(u.pat, token)]
        return owners[0] if owners else None

    def _issued_user(self, token: str, endpoint: str) -> str | Unauthorized | None:
        """Return the user of a token this emulator issued, why it is refused, or `None` when
        it is not one of ours."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=_ISSUER,
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        if claims.get("exp", 0) <= self.wall():
            return Unauthorized("the token has expired; exchange a new one at /oauth/token")
        if str(claims.get("scope", "")).casefold() != endpoint.casefold():
            return Unauthorized(
                f"the token was issued for endpoint {claims.get('scope')}, not for {endpoint}"
            )
        return str(claims["sub"])
