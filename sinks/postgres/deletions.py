"""Erasure bookkeeping in PostgreSQL: ``gdpr_deletions`` and their targets, leased to one
driver at a time, and the conversations the converse agent reports as erased."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from schemas.erasure import Deletion, DeletionRequest, Progress
from sinks.postgres.pool import Database

_RECORD = """
INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status)
VALUES ($1, $2, $3, $4, 'pending')
ON CONFLICT (deletion_id) DO NOTHING
"""

# A deletion created by the API before the event arrived has no targets yet: add them.
_RECORD_TARGETS = """
INSERT INTO gdpr_deletion_targets (deletion_id, target, status)
SELECT $1, t, 'pending' FROM unnest($2::text[]) AS t
ON CONFLICT (deletion_id, target) DO NOTHING
"""

_CLAIM = """
UPDATE gdpr_deletions
SET lease_until = now() + make_interval(secs => $2),
    status = CASE WHEN status = 'pending' THEN 'in_progress' ELSE status END
WHERE deletion_id = $1 AND status <> 'completed'
  AND (lease_until IS NULL OR lease_until < now())
RETURNING deletion_id, contact_id, reason, requested_by, requested_at
"""

_TARGETS = """
SELECT target, status, attempts, next_attempt_at, last_error, completed_at
FROM gdpr_deletion_targets WHERE deletion_id = $1
"""

_SAVE = """
UPDATE gdpr_deletion_targets
SET status = $3, attempts = $4, next_attempt_at = $5, last_error = $6, completed_at = $7,
    updated_at = now()
WHERE deletion_id = $1 AND target = $2
"""

_COMPLETE = """
UPDATE gdpr_deletions SET status = 'completed', completed_at = $2, lease_until = NULL
WHERE deletion_id = $1
"""

_FORGET_CONVERSATIONS = "DELETE FROM gdpr_deletion_conversations WHERE deletion_id = $1"

_RELEASE = "UPDATE gdpr_deletions SET lease_until = NULL WHERE deletion_id = $1"

_DUE = """
SELECT d.deletion_id
FROM gdpr_deletions AS d
WHERE d.status <> 'completed'
  AND (d.lease_until IS NULL OR d.lease_until < now())
  AND EXISTS (
      SELECT 1 FROM gdpr_deletion_targets AS t
      WHERE t.deletion_id = d.deletion_id AND t.status <> 'completed'
        AND (t.next_attempt_at IS NULL OR t.next_attempt_at <= $1)
  )
ORDER BY d.requested_at
LIMIT $2
"""

_MARK_CONVERSATION = """
UPDATE gdpr_deletion_conversations SET erased_at = coalesce(erased_at, now())
WHERE deletion_id = $1 AND conversation_key = $2
"""


def _progress(row: Any) -> Progress:
    return Progress(
        target=row["target"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        completed_at=row["completed_at"],
    )


class PostgresDeletions:
    """`DeletionStore` over PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(self, request: DeletionRequest, targets: Sequence[str]) -> None:
        async with self.database.connection() as conn, conn.transaction():
            await conn.execute(
                _RECORD,
                request.deletion_id,
                request.contact_id,
                request.reason,
                request.requested_by,
            )
            await conn.execute(_RECORD_TARGETS, request.deletion_id, list(targets))

    async def claim(self, deletion_id: str, lease_seconds: float) -> Deletion | None:
        async with self.database.connection() as conn, conn.transaction():
            row = await conn.fetchrow(_CLAIM, deletion_id, lease_seconds)
            if row is None:
                return None
            targets = await conn.fetch(_TARGETS, deletion_id)
        return Deletion(
            deletion_id=row["deletion_id"],
            contact_id=row["contact_id"],
            reason=row["reason"],
            requested_by=row["requested_by"],
            requested_at=row["requested_at"],
            targets=tuple(_progress(t) for t in targets),
        )

    async def save(self, deletion_id: str, progress: Progress) -> None:
        async with self.database.connection() as conn:
            await conn.execute(
                _SAVE,
                deletion_id,
                progress.target,
                progress.status,
                progress.attempts,
                progress.next_attempt_at,
                progress.last_error,
                progress.completed_at,
            )

    async def complete(self, deletion_id: str, at: datetime) -> None:
        async with self.database.connection() as conn, conn.transaction():
            await conn.execute(_COMPLETE, deletion_id, at)
            await conn.execute(_FORGET_CONVERSATIONS, deletion_id)

    async def release(self, deletion_id: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_RELEASE, deletion_id)

    async def due(self, now: datetime, limit: int) -> list[str]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(_DUE, now, limit)
        return [row["deletion_id"] for row in rows]


class PostgresConversationErasures:
    """What the converse agent reports: a conversation's state is gone."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def conversation_erased(self, deletion_id: str, conversation_key: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_MARK_CONVERSATION, deletion_id, conversation_key)
