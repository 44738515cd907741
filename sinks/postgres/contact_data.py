"""A contact's data in PostgreSQL, as erasure finds and removes it.

Every statement is keyed by the pseudonymous contact id and is idempotent: running a target
again after a crash deletes nothing more and fails on nothing already gone. What stays, as
proof, is ``gdpr_deletions`` and its targets (pseudonymous id, times, reason code), and the
audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sinks.postgres import erasure_fence
from sinks.postgres.pool import Database

# Order matters only for readability: nothing references these rows by foreign key except
# messages → conversations, which cascades.
_DELETE_ROWS: tuple[tuple[str, str], ...] = (
    (
        "deliveries",
        "DELETE FROM deliveries WHERE action_id IN "
        "(SELECT action_id FROM actions WHERE contact_id = $1)",
    ),
    ("actions", "DELETE FROM actions WHERE contact_id = $1"),
    ("message_statuses", "DELETE FROM message_statuses WHERE contact_id = $1"),
    (
        "conversation_status_changes",
        "DELETE FROM conversation_status_changes WHERE conversation_key IN "
        "(SELECT conversation_key FROM conversations WHERE contact_id = $1)",
    ),
    ("messages", "DELETE FROM messages WHERE contact_id = $1"),
    ("conversations", "DELETE FROM conversations WHERE contact_id = $1"),
    ("contact_identities", "DELETE FROM contact_identities WHERE contact_id = $1"),
    (
        "gdpr_exports",
        "UPDATE gdpr_exports SET status = 'deleted', path = NULL "
        "WHERE contact_id = $1 AND (status <> 'deleted' OR path IS NOT NULL)",
    ),
)

_TRACK_CONVERSATIONS = """
INSERT INTO gdpr_deletion_conversations (deletion_id, conversation_key)
SELECT $1, conversation_key FROM conversations WHERE contact_id = $2
ON CONFLICT (deletion_id, conversation_key) DO NOTHING
"""

# Conversations whose state is not yet reported erased, and whose event was not sent within
# the resend interval: (key, already sent before).
_TO_ANNOUNCE = """
SELECT conversation_key FROM gdpr_deletion_conversations
WHERE deletion_id = $1 AND erased_at IS NULL
  AND (emitted_at IS NULL OR emitted_at < $2)
"""

_ANNOUNCED = """
UPDATE gdpr_deletion_conversations SET emitted_at = $3
WHERE deletion_id = $1 AND conversation_key = ANY($2::text[])
"""

_CONVERSATION_PROGRESS = """
SELECT conversation_key, erased_at IS NOT NULL AS erased
FROM gdpr_deletion_conversations WHERE deletion_id = $1
"""


def _affected(status: str) -> int:
    """asyncpg's command tag, e.g. ``DELETE 3``: the row count."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PostgresContactData:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def delete_data_key_claim(self, contact_id: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute("DELETE FROM data_key_claims WHERE contact_id = $1", contact_id)

    async def delete_consent_records(self, contact_id: str) -> int:
        async with self.database.connection() as conn, conn.transaction():
            await erasure_fence.close(conn, contact_id)
            status = await conn.execute(
                "DELETE FROM consent_records WHERE contact_id = $1", contact_id
            )
        return _affected(status)

    async def track_conversations(self, deletion_id: str, contact_id: str) -> None:
        """Note which conversations must have their state erased (once; later calls add
        conversations stored since)."""
        async with self.database.connection() as conn:
            await conn.execute(_TRACK_CONVERSATIONS, deletion_id, contact_id)

    async def conversations_to_announce(self, deletion_id: str, sent_before: datetime) -> list[str]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(_TO_ANNOUNCE, deletion_id, sent_before)
        return [row["conversation_key"] for row in rows]

    async def conversations_announced(
        self, deletion_id: str, keys: Sequence[str], at: datetime
    ) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_ANNOUNCED, deletion_id, list(keys), at)

    async def conversation_progress(self, deletion_id: str) -> tuple[list[str], list[str]]:
        """(every tracked conversation, those reported erased)."""
        async with self.database.connection() as conn:
            rows = await conn.fetch(_CONVERSATION_PROGRESS, deletion_id)
        keys = [row["conversation_key"] for row in rows]
        return keys, [row["conversation_key"] for row in rows if row["erased"]]

    async def export_paths(self, contact_id: str) -> list[str]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(
                "SELECT path FROM gdpr_exports WHERE contact_id = $1 AND path IS NOT NULL",
                contact_id,
            )
        return [row["path"] for row in rows]

    async def chatwoot_refs(self, contact_id: str) -> list[str]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(
                "SELECT DISTINCT external_ref FROM contact_identities "
                "WHERE contact_id = $1 AND kind = 'chatwoot' AND external_ref IS NOT NULL",
                contact_id,
            )
        return [row["external_ref"] for row in rows]

    async def delete_contact_rows(self, contact_id: str) -> dict[str, int]:
        """Every row about the contact, in one transaction; rows affected per table."""
        counts: dict[str, int] = {}
        async with self.database.connection() as conn, conn.transaction():
            await erasure_fence.close(conn, contact_id)
            for table, statement in _DELETE_ROWS:
                counts[table] = _affected(await conn.execute(statement, contact_id))
        return counts
