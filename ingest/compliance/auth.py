"""Bearer authentication and scope checks for the compliance API.

Missing, malformed, unknown, wrong or revoked keys are all 401 with ``WWW-Authenticate:
Bearer``; a valid key without the scope an endpoint needs is 403, naming the scope.
Refusals of an identified key (revoked, wrong secret, missing scope) are audited.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ingest.compliance import apikeys
from ingest.compliance.audit import Action, AuditEntry, AuditTrail
from ingest.compliance.errors import Forbidden, Unauthenticated
from ingest.compliance.keystore import KeyStore, StoredKey


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key, by id, and what it may do."""

    key_id: str
    scopes: frozenset[str]


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header; Unauthenticated otherwise."""
    if not authorization:
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <key>'")
    return token.strip()


def check_key(secret: str, stored: StoredKey | None) -> Principal:
    """Decide on a key found by its prefix (or not found)."""
    if stored is None:
        raise Unauthenticated("the API key is not valid")
    if not apikeys.verify_secret(secret, stored.secret_hash):
        raise Unauthenticated("the API key is not valid", key_id=stored.key_id)
    if stored.revoked_at is not None:
        raise Unauthenticated("the API key has been revoked", key_id=stored.key_id)
    return Principal(stored.key_id, frozenset(stored.scopes))


def require(principal: Principal, any_of: Collection[str]) -> None:
    if not apikeys.allows(principal.scopes, any_of):
        needed = " or ".join(f"'{scope}'" for scope in any_of)
        raise Forbidden(f"this API key lacks the scope {needed}")


class Authenticator:
    def __init__(self, keys: KeyStore, audit: AuditTrail) -> None:
        self.keys = keys
        self.audit = audit

    async def authenticate(
        self, authorization: str | None, action: Action, any_of: Collection[str]
    ) -> Principal:
        token = bearer_token(authorization)
        parsed = apikeys.parse_token(token)
        if parsed is None:
            raise Unauthenticated("the API key is not valid")
        prefix, secret = parsed
        try:
            principal = check_key(secret, await self.keys.by_prefix(prefix))
        except Unauthenticated as refused:
            if refused.key_id is not None:
                await self.audit.record(AuditEntry(refused.key_id, action, refused.outcome))
            raise
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
