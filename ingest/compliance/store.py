"""What the compliance service reads and writes in PostgreSQL: contacts, exports, erasures.

Requests that also append an event (export, erasure) insert their row in a transaction that
commits only after the event log acknowledged: a refused append leaves no orphan row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.compliance.ports import Connections

Then = Callable[[], Awaitable[None]]

# A contact is known once anything about it is held: a provider identity, a conversation
# or a consent record.
_KNOWN = """
SELECT EXISTS (SELECT 1 FROM contact_identities WHERE contact_id = $1)
    OR EXISTS (SELECT 1 FROM conversations WHERE contact_id = $1)
    OR EXISTS (SELECT 1 FROM consent_records WHERE contact_id = $1)
"""


@dataclass(frozen=True)
class ExportRow:
    export_id: str
    contact_id: str
    status: str
    requested_at: datetime
    completed_at: datetime | None
    expires_at: datetime
    path: str | None


@dataclass(frozen=True)
class DeletionRow:
    deletion_id: str
    contact_id: str
    status: str
    reason: str
    requested_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class TargetRow:
    target: str
    status: str
    attempts: int
    completed_at: datetime | None
    last_error: str | None


def _values(row: Any) -> dict[str, Any]:
    return dict(row)


class ComplianceStore:
    def __init__(self, database: Connections) -> None:
        self.database = database

    async def contact_for_identity(self, identity_hash: str) -> str | None:
        async with self.database.connection() as conn:
            found: str | None = await conn.fetchval(
                "SELECT contact_id FROM contact_identities WHERE identity_hash = $1",
                identity_hash,
            )
        return found

    async def contact_known(self, contact_id: str) -> bool:
        async with self.database.connection() as conn:
            return bool(await conn.fetchval(_KNOWN, contact_id))

    async def create_export(
        self, export_id: str, contact_id: str, requested_by: str, expires_at: datetime, then: Then
    ) -> None:
        async with self.database.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO gdpr_exports (export_id, contact_id, status, requested_by,"
                " expires_at) VALUES ($1, $2, 'processing', $3, $4)",
                export_id,
                contact_id,
                requested_by,
                expires_at,
            )
            await then()

    async def export(self, export_id: str) -> ExportRow | None:
        async with self.database.connection() as conn:
            row = await conn.fetchrow(
                "SELECT export_id, contact_id, status, requested_at, completed_at, expires_at,"
                " path FROM gdpr_exports WHERE export_id = $1",
                export_id,
            )
        return ExportRow(**_values(row)) if row else None

    async def open_deletion(self, contact_id: str) -> DeletionRow | None:
        """An erasure of this contact that has not finished yet, if any."""
        async with self.database.connection() as conn:
            row = await conn.fetchrow(
                "SELECT deletion_id, contact_id, status, reason, requested_at, completed_at"
                " FROM gdpr_deletions WHERE contact_id = $1 AND status <> 'completed'"
                " ORDER BY requested_at LIMIT 1",
                contact_id,
            )
        return DeletionRow(**_values(row)) if row else None

    async def create_deletion(
        self, deletion_id: str, contact_id: str, reason: str, requested_by: str, then: Then
    ) -> None:
        async with self.database.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by,"
                " status) VALUES ($1, $2, $3, $4, 'pending')",
                deletion_id,
                contact_id,
                reason,
                requested_by,
            )
            await then()

    async def deletion(self, deletion_id: str) -> tuple[DeletionRow, list[TargetRow]] | None:
        async with self.database.connection() as conn:
            row = await conn.fetchrow(
                "SELECT deletion_id, contact_id, status, reason, requested_at, completed_at"
                " FROM gdpr_deletions WHERE deletion_id = $1",
                deletion_id,
            )
            if row is None:
                return None
            targets = await conn.fetch(
                "SELECT target, status, attempts, completed_at, last_error"
                " FROM gdpr_deletion_targets WHERE deletion_id = $1 ORDER BY target",
                deletion_id,
            )
        return DeletionRow(**_values(row)), [TargetRow(**_values(t)) for t in targets]
