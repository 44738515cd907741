"""API keys in PostgreSQL (``api_keys``): only prefixes and secret hashes, never secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.compliance.apikeys import NewKey
from ingest.compliance.ports import Connections


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    name: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


_COLUMNS = "key_id, name, secret_hash, scopes, created_at, revoked_at, last_used_at"


def _key(row: object) -> StoredKey:
    values = dict(row)  # type: ignore[call-overload]  # an asyncpg Record
    values["scopes"] = tuple(values["scopes"])
    return StoredKey(**values)


class KeyStore:
    def __init__(self, database: Connections) -> None:
        self.database = database

    async def add(self, key: NewKey) -> None:
        async with self.database.connection() as conn:
            await conn.execute(
                "INSERT INTO api_keys (key_id, prefix, secret_hash, name, scopes)"
                " VALUES ($1, $2, $3, $4, $5)",
                key.key_id,
                key.prefix,
                key.secret_hash,
                key.name,
                list(key.scopes),
            )

    async def by_prefix(self, prefix: str) -> StoredKey | None:
        async with self.database.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM api_keys WHERE prefix = $1",  # noqa: S608 - constant
                prefix,
            )
        return _key(row) if row else None

    async def touch(self, key_id: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute("UPDATE api_keys SET last_used_at = now() WHERE key_id = $1", key_id)

    async def revoke(self, key_id: str) -> bool:
        """Revoke a key; False if there is no such key or it was revoked before."""
        async with self.database.connection() as conn:
            status = await conn.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
                key_id,
            )
        return bool(status == "UPDATE 1")

    async def all(self) -> list[StoredKey]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at"  # noqa: S608 - constant
            )
        return [_key(row) for row in rows]
