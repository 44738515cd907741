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
    requested_by: str


@dataclass(frozen=True)
class DeletionRow:
    deletion_id: str
    contact_id: str
    status: str
    reason: str
    requested_at: datetime
    completed_at: datetime | None
    # Who asked: the first requester, and any key that asked again while it ran.
    requested_by: frozenset[str]


@dataclass(frozen=True)
class TargetRow:
    target: str
    status: str
    attempts: int
    completed_at: datetime | None
    last_error: str | None


def _values(row: Any) -> dict[str, Any]:
    return dict(row)


def _deletion(row: Any) -> DeletionRow:
    values = _values(row)
    values["requested_by"] = frozenset(values["requested_by"])
    return DeletionRow(**values)


_DELETION = """
SELECT d.deletion_id, d.contact_id, d.status, d.reason, d.requested_at, d.completed_at,
       array_prepend(d.requested_by, ARRAY(
           SELECT r.requested_by FROM gdpr_deletion_requesters AS r
           WHERE r.deletion_id = d.deletion_id)) AS requested_by
FROM gdpr_deletions AS d
"""


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
                " path, requested_by FROM gdpr_exports WHERE export_id = $1",
                export_id,
            )
        return ExportRow(**_values(row)) if row else None

    async def open_deletion(self, contact_id: str) -> DeletionRow | None:
        """An erasure of this contact that has not finished yet, if any."""
        async with self.database.connection() as conn:
            row = await conn.fetchrow(
                _DELETION + "WHERE d.contact_id = $1 AND d.status <> 'completed'"
                " ORDER BY d.requested_at LIMIT 1",
                contact_id,
            )
        return _deletion(row) if row else None

    async def add_requester(self, deletion_id: str, requested_by: str) -> None:
        """Someone else asked for an erasure already under way: they may follow it too."""
        async with self.database.connection() as conn:
            await conn.execute(
                "INSERT INTO gdpr_deletion_requesters (deletion_id, requested_by)"
                " VALUES ($1, $2) ON CONFLICT DO NOTHING",
                deletion_id,
                requested_by,
            )

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
            row = await conn.fetchrow(_DELETION + "WHERE d.deletion_id = $1", deletion_id)
            if row is None:
                return None
            targets = await conn.fetch(
                "SELECT target, status, attempts, completed_at, last_error"
                " FROM gdpr_deletion_targets WHERE deletion_id = $1 ORDER BY target",
                deletion_id,
            )
        return _deletion(row), [TargetRow(**_values(t)) for t in targets]
