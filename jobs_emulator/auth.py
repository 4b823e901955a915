"""Who is calling the Direct Access API: the token in `Authorization`, mapped to a user name.

Accepted forms: `Snowflake Token="T"` (as Snowflake's Direct Access sends it) and `Bearer T`.
With no tokens configured, every caller is the default user, with or without a header; once tokens
are configured, a missing or unknown token is refused (HTTP 401).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DEFAULT_USER = "emulator_user"

_SNOWFLAKE_TOKEN = re.compile(r'^\s*Snowflake\s+Token\s*=\s*"([^"]*)"\s*$', re.IGNORECASE)
_BEARER_TOKEN = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)


class Authenticator:
    """Maps tokens to users."""

    def __init__(
        self, tokens: Mapping[str, str] | None = None, default_user: str = DEFAULT_USER
    ) -> None:
        """`tokens` maps accepted tokens to users; with none, everyone is `default_user`."""
        self.tokens = dict(tokens or {})
        self.default_user = default_user

    def user_for(self, authorization: str | None) -> str | None:
        """Returns the user behind an `Authorization` header value, or `None` to refuse the call."""
        if not self.tokens:
            return self.default_user
        token = _token(authorization or "")
        return None if token is None else self.tokens.get(token)


def _token(authorization: str) -> str | None:
    for form in (_SNOWFLAKE_TOKEN, _BEARER_TOKEN):
        match = form.match(authorization)
        if match:
            return match.group(1)
    return None
