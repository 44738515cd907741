"""Consent history in PostgreSQL: one ``consent_records`` row per consent event."""

from __future__ import annotations

from datetime import datetime

from sinks.postgres import erasure_fence
from sinks.postgres.pool import Database

_INSERT = """
INSERT INTO consent_records (
    event_id, contact_id, consent_type, granted, source, reason, ip_address, occurred_at
) VALUES ($1, $2, $3, $4, $5, $6, CAST($7::text AS inet), $8)
ON CONFLICT (event_id) DO NOTHING
"""

ConsentRow = tuple[str, str, str, bool, str, str, str | None, datetime]


class PostgresConsentRecords:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, row: ConsentRow) -> None:
        """Idempotent on the event id: a redelivered event adds nothing. A record of a
        contact already erased is left out (sinks/postgres/erasure_fence.py)."""
        contact_id, occurred_at = row[1], row[7]
        async with self.database.connection() as conn, conn.transaction():
            erased = await erasure_fence.enter(conn, [contact_id])
            if not erasure_fence.forgotten(erased, contact_id, occurred_at):
                await conn.execute(_INSERT, *row)
