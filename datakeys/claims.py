"""Who creates a contact's data key: whoever inserts its claim row first.

`data_key_claims` has one row per contact. The winner of ``INSERT … ON CONFLICT DO NOTHING``
creates and publishes the key; everyone else waits for it on the data-keys topic. A claim
whose key never appeared (its owner crashed in between) can be taken over after a while,
by a compare-and-set on ``key_id``, so there is still exactly one winner.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from datakeys.errors import KeyUnavailableError
from sinks.postgres.pool import Database


@dataclass(frozen=True)
class Claim:
    key_id: str
    claimed_by: str
    age_seconds: float


class Claims(Protocol):
    async def claim(self, contact_id: str, key_id: str, owner: str) -> bool:
        """True if this call created the claim (its caller owns the key)."""
        ...

    async def current(self, contact_id: str) -> Claim | None: ...

    async def take_over(
        self, contact_id: str, old_key_id: str, new_key_id: str, owner: str, older_than: float
    ) -> bool:
        """Replace a stale claim still naming ``old_key_id``; True if this call did it."""
        ...

    async def release(self, contact_id: str) -> None:
        """Forget the claim (erasure): the contact's next key is claimed afresh."""
        ...


# $1 is always the data-keys topic the claim is for (migrations/0007_sealing.sql).
_CLAIM = """
INSERT INTO data_key_claims (topic, contact_id, key_id, claimed_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (topic, contact_id) DO NOTHING RETURNING key_id
"""
_CURRENT = """
SELECT key_id, claimed_by, EXTRACT(EPOCH FROM now() - claimed_at)::float8 AS age
FROM data_key_claims WHERE topic = $1 AND contact_id = $2
"""
_TAKE_OVER = """
UPDATE data_key_claims SET key_id = $4, claimed_by = $5, claimed_at = now()
WHERE topic = $1 AND contact_id = $2 AND key_id = $3
  AND claimed_at <= now() - make_interval(secs => $6)
RETURNING key_id
"""
_RELEASE = "DELETE FROM data_key_claims WHERE topic = $1 AND contact_id = $2"

_UNREACHABLE = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
    ConnectionError,
)


class PostgresClaims:
    """Claims in PostgreSQL; any database failure is a KeyUnavailableError (retry later)."""

    def __init__(self, database: Callable[[], Awaitable[Database]], topic: str) -> None:
        self._database = database
        self._topic = topic

    async def _fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        try:
            database = await self._database()
            async with database.connection() as conn:
                return await conn.fetchrow(query, self._topic, *args)
        except _UNREACHABLE as exc:
            raise KeyUnavailableError(f"data key claims: {type(exc).__name__}") from exc

    async def claim(self, contact_id: str, key_id: str, owner: str) -> bool:
        return await self._fetchrow(_CLAIM, contact_id, key_id, owner) is not None

    async def current(self, contact_id: str) -> Claim | None:
        row = await self._fetchrow(_CURRENT, contact_id)
        if row is None:
            return None
        return Claim(row["key_id"], row["claimed_by"], float(row["age"]))

    async def take_over(
        self, contact_id: str, old_key_id: str, new_key_id: str, owner: str, older_than: float
    ) -> bool:
        row = await self._fetchrow(
            _TAKE_OVER, contact_id, old_key_id, new_key_id, owner, older_than
        )
        return row is not None

    async def release(self, contact_id: str) -> None:
        await self._fetchrow(_RELEASE, contact_id)


class InMemoryClaims:
    """`Claims` for unit tests, with the same one-winner rules."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.rows: dict[str, tuple[str, str, float]] = {}
        self.clock = clock
        self.available = True

    def _check(self) -> None:
        if not self.available:
            raise KeyUnavailableError("data key claims: unavailable")

    async def claim(self, contact_id: str, key_id: str, owner: str) -> bool:
        self._check()
        if contact_id in self.rows:
            return False
        self.rows[contact_id] = (key_id, owner, self.clock())
        return True

    async def current(self, contact_id: str) -> Claim | None:
        self._check()
        row = self.rows.get(contact_id)
        return None if row is None else Claim(row[0], row[1], self.clock() - row[2])

    async def take_over(
        self, contact_id: str, old_key_id: str, new_key_id: str, owner: str, older_than: float
    ) -> bool:
        self._check()
        row = self.rows.get(contact_id)
        if row is None or row[0] != old_key_id or self.clock() - row[2] < older_than:
            return False
        self.rows[contact_id] = (new_key_id, owner, self.clock())
        return True

    async def release(self, contact_id: str) -> None:
        self._check()
        self.rows.pop(contact_id, None)
