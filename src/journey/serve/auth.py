"""Who may call what: bearer keys from the environment, compared in constant time and never logged.

The /v1 API takes the keys in the variable named by `serve.api_keys_env` and those in
`serve.data_keys_env` (comma-separated); a data key is an API key that is also given the raw
lookup rows and passage texts. With no key configured the server does not start, unless
`serve.allow_anonymous` lets /v1 answer without one (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

from journey.errors import UserError
from journey.workspace import ServeSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """An /v1 caller: whether it presented a key, and whether that key may see raw customer data."""

    keyed: bool
    data: bool = False


ANONYMOUS_CALLER = Caller(keyed=False)


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def matches(token: str | None, keys: Iterable[bytes]) -> bool:
    """Whether `token` is one of `keys` (SHA-256 digests): every key is compared, each in constant time."""
    if token is None:
        return False
    supplied = _digest(token)
    found = False
    for key in keys:
        found |= hmac.compare_digest(supplied, key)
    return found


class ApiKeys:
    """The /v1 keys of one server, held as digests."""

    def __init__(self, keys: Iterable[str], data_keys: Iterable[str], *, allow_anonymous: bool = False) -> None:
        self._data = [_digest(key) for key in data_keys]
        self._keys = [_digest(key) for key in keys] + self._data
        self.allow_anonymous = allow_anonymous

    @classmethod
    def from_environment(cls, settings: ServeSettings) -> ApiKeys:
        """Read the keys; refuse to serve without any unless anonymous access is allowed (then warn)."""
        keys, data_keys = _keys(settings.api_keys_env), _keys(settings.data_keys_env)
        if not keys and not data_keys and not settings.allow_anonymous:
            raise UserError(
                f"No API keys: set {settings.api_keys_env} to the comma-separated keys of the /v1 API "
                "(or set serve.allow_anonymous = true in journey.toml to serve /v1 without keys)."
            )
        if settings.allow_anonymous:
            log.warning("serve.allow_anonymous is on: /v1 answers callers without a key (never with customer data).")
        return cls(keys, data_keys, allow_anonymous=settings.allow_anonymous)

    def caller(self, authorization: str | None) -> Caller | None:
        """The caller an `Authorization` header makes; None when it must be refused (a wrong or missing key)."""
        token = bearer(authorization)
        if token is None and not authorization and self.allow_anonymous:
            return ANONYMOUS_CALLER
        if not matches(token, self._keys):
            return None
        return Caller(keyed=True, data=matches(token, self._data))


def _keys(variable: str) -> list[str]:
    return [key.strip() for key in os.environ.get(variable, "").split(",") if key.strip()]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
