"""Identity verification for the chat page: the site embedding it vouches for its signed-in customer.

Like Intercom's identity verification, with an expiry: the site's server signs the customer's
identity fields with a secret it shares with journey (the environment variable
`JOURNEY_IDENTITY_SECRET`) and hands the page `fields`, `expires` and `signature`:

    payload   = the lines "name=value" of the fields and of expires=<unix seconds>, sorted by name, joined by "\\n"
    signature = hex(HMAC-SHA256(secret, payload))

A signature is accepted until `expires`, and at most `MAX_LIFETIME_S` ahead; the verified
fields stay with the conversation it starts. Without the secret no identity is accepted.
See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from journey.knowledge.identity import Identity

IDENTITY_SECRET_ENV = "JOURNEY_IDENTITY_SECRET"
MAX_LIFETIME_S = 24 * 3600


class IdentityRefused(ValueError):
    """A signed identity that is not accepted, with the reason."""


def payload(fields: dict[str, str], expires: int) -> bytes:
    """The signed text: `name=value` lines of the fields and `expires`, sorted by name."""
    lines = {**fields, "expires": str(expires)}
    return "\n".join(f"{name}={value}" for name, value in sorted(lines.items())).encode()


def sign(secret: str, fields: dict[str, str], expires: int) -> str:
    """The signature the embedding site's server computes (here for tests and as the reference)."""
    return hmac.new(secret.encode(), payload(fields, expires), hashlib.sha256).hexdigest()


def verify(
    secret: str | None, fields: dict[str, str], expires: int, signature: str, *, now: float | None = None
) -> Identity:
    """The verified identity; raise `IdentityRefused` for a missing secret, a bad signature or a stale one."""
    if not secret:
        raise IdentityRefused(f"This server does not verify customer identities ({IDENTITY_SECRET_ENV} is not set).")
    expected = sign(secret, fields, expires)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise IdentityRefused("The customer identity's signature is not valid.")
    now = time.time() if now is None else now
    if not now < expires <= now + MAX_LIFETIME_S:
        raise IdentityRefused("The customer identity has expired or expires too far ahead (at most a day).")
    return Identity(dict(fields))
