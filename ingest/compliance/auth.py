"""Bearer authentication, per-key rate limits and scope checks for the compliance API.

Missing, malformed, unknown, wrong or revoked keys are all 401 with ``WWW-Authenticate:
Bearer``; a valid key without the scope an endpoint needs is 403, naming the scope; a valid
key over its rate is 429 with ``Retry-After``. Refusals of a key that proved its secret
(revoked, missing scope) are audited under its id; the others are counted (errors.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from ingest.compliance import apikeys
from ingest.compliance.audit import Action, AuditEntry, AuditTrail
from ingest.compliance.errors import Forbidden, RateLimited, Unauthenticated
from ingest.compliance.keystore import StoredKey
from ingest.ratelimit import RateLimiter

# Reads every export's and erasure's status, not only those of the key itself.
READ_ALL = "gdpr:read-all"


class Keys(Protocol):
    """What authentication needs of the key store (`keystore.KeyStore`)."""

    async def by_prefix(self, prefix: str) -> StoredKey | None: ...

    async def touch(self, key_id: str) -> None: ...


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key, by id, and what it may do."""

    key_id: str
    scopes: frozenset[str]


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header; Unauthenticated otherwise."""
    if not authorization:
        raise Unauthenticated(
            "an API key is required: send 'Authorization: Bearer <key>'", "missing_key"
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <key>'", "malformed_key")
    return token.strip()


def check_key(secret: str, stored: StoredKey | None) -> Principal:
    """Decide on a key found by its prefix (or not found)."""
    if stored is None:
        raise Unauthenticated("the API key is not valid", "unknown_key")
    if not apikeys.verify_secret(secret, stored.secret_hash):
        raise Unauthenticated("the API key is not valid", "wrong_secret", stored.key_id)
    if stored.revoked_at is not None:
        raise Unauthenticated("the API key has been revoked", "revoked_key", stored.key_id)
    return Principal(stored.key_id, frozenset(stored.scopes))


def require(principal: Principal, any_of: Collection[str]) -> None:
    if not apikeys.allows(principal.scopes, any_of):
        needed = " or ".join(f"'{scope}'" for scope in any_of)
        raise Forbidden(f"this API key lacks the scope {needed}")


def reads_of(principal: Principal) -> str | None:
    """Whose exports and erasures the key may read: its own (its key id), or everyone's
    (None) with ``gdpr:read-all``."""
    return None if READ_ALL in principal.scopes else principal.key_id


def may_read(reader: str | None, requested_by: Collection[str]) -> bool:
    """Whether a reader (see `reads_of`; None reads all) may see a request made by any of
    ``requested_by``."""
    return reader is None or reader in requested_by


class Authenticator:
    def __init__(
        self,
        keys: Keys,
        audit: AuditTrail,
        limiter: RateLimiter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.audit = audit
        self.limiter = limiter  # per key id
        self.clock = clock

    async def authenticate(
        self, authorization: str | None, action: Action, any_of: Collection[str]
    ) -> Principal:
        token = bearer_token(authorization)
        parsed = apikeys.parse_token(token)
        if parsed is None:
            raise Unauthenticated("the API key is not valid", "malformed_key")
        prefix, secret = parsed
        try:
            principal = check_key(secret, await self.keys.by_prefix(prefix))
        except Unauthenticated as refused:
            if refused.counted_as is None and refused.key_id is not None:
                await self.audit.record(AuditEntry(refused.key_id, action, refused.outcome))
            raise
        # Charged only once the secret is proven: a stranger who knows a key's prefix
        # cannot spend its budget and lock its holder out.
        wait = self.limiter.acquire(principal.key_id, self.clock())
        if wait:
            raise RateLimited(wait, principal.key_id)
        await self.keys.touch(principal.key_id)
        try:
            require(principal, any_of)
        except Forbidden as refused:
            detail = {"required_scope": " or ".join(any_of)}
            await self.audit.record(
                AuditEntry(principal.key_id, action, refused.outcome, None, detail)
            )
            raise
        return principal
