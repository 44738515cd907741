"""Exports in PostgreSQL: the rows an archive is built from, and the ``gdpr_exports`` row.

Every query filters by the one contact id: nothing of another contact can reach its
archive. An export is finished only if its row is still ``processing`` (or ``failed``)
and no erasure of the contact was requested since the export was: an erasure that races
an export always wins, and the caller removes the file it wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sinks.export.archive import (
    Action,
    Consent,
    ContactRows,
    Conversation,
    Deletion,
    Export,
    Identity,
    Message,
)
from sinks.postgres.pool import Database

_IDENTITIES = """
SELECT kind, external_ref, first_seen_at, last_seen_at
FROM contact_identities WHERE contact_id = $1
"""
_CONVERSATIONS = """
SELECT conversation_key, channel, status, first_message_at, last_message_at
FROM conversations WHERE contact_id = $1
"""
_MESSAGES = """
SELECT event_id, conversation_key, direction, message_type, sent_at, personal, edited_at,
       revoked_at
FROM messages WHERE contact_id = $1
"""
_ACTIONS = """
SELECT action_id, conversation_key, type, requested_at, personal, intent, reason, in_reply_to
FROM actions WHERE contact_id = $1
"""
_CONSENTS = """
SELECT consent_type, granted, source, reason, occurred_at, host(ip_address) AS ip_address
FROM consent_records WHERE contact_id = $1
"""
_DELETIONS = """
SELECT deletion_id, reason, requested_by, status, requested_at, completed_at
FROM gdpr_deletions WHERE contact_id = $1
"""
_EXPORTS = """
SELECT export_id, status, requested_by, requested_at, completed_at, expires_at
FROM gdpr_exports WHERE contact_id = $1
"""

# The API inserts the row before it appends the event; a chat request (or a lost row) is
# inserted here, dated by the request so that an erasure since then still prevails.
_OPEN = """
INSERT INTO gdpr_exports (export_id, contact_id, status, requested_by, requested_at, expires_at)
VALUES ($1, $2, 'processing', $3, $4, $5)
ON CONFLICT (export_id) DO NOTHING
"""
_STATE = """
SELECT e.status, e.contact_id, e.expires_at, EXISTS (
    SELECT 1 FROM gdpr_deletions AS d
    WHERE d.contact_id = e.contact_id AND d.requested_at >= e.requested_at
) AS erased
FROM gdpr_exports AS e WHERE e.export_id = $1
"""
_COMPLETE = """
UPDATE gdpr_exports AS e
SET status = 'completed', path = $2, size_bytes = $3, completed_at = $4, error = NULL
WHERE e.export_id = $1 AND e.status IN ('processing', 'failed')
  AND NOT EXISTS (
      SELECT 1 FROM gdpr_deletions AS d
      WHERE d.contact_id = e.contact_id AND d.requested_at >= e.requested_at
  )
RETURNING e.export_id
"""
_FAIL = """
UPDATE gdpr_exports SET status = 'failed', error = $2
WHERE export_id = $1 AND status IN ('processing', 'failed')
"""


@dataclass(frozen=True)
class ExportState:
    status: str
    contact_id: str
    # An erasure of the contact was requested at or after the export was.
    erased: bool
    expires_at: datetime | None = None


def _json(value: Any) -> dict[str, Any]:
    """asyncpg hands jsonb over as text unless a codec is set."""
    decoded = json.loads(value) if isinstance(value, str) else value
    return decoded if isinstance(decoded, dict) else {}


class ExportStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def open(
        self,
        export_id: str,
        contact_id: str,
        requested_by: str,
        requested_at: datetime,
        expires_at: datetime,
    ) -> ExportState:
        """The export's row, created ``processing`` if it is missing."""
        async with self.database.connection() as conn:
            await conn.execute(_OPEN, export_id, contact_id, requested_by, requested_at, expires_at)
            row = await conn.fetchrow(_STATE, export_id)
        if row is None:  # deleted between the two statements, by an erasure
            return ExportState("deleted", contact_id, erased=True)
        return ExportState(row["status"], row["contact_id"], row["erased"], row["expires_at"])

    async def gather(self, contact_id: str) -> ContactRows:
        """Every row held about the contact, read in one snapshot."""
        async with (
            self.database.connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            identities = await conn.fetch(_IDENTITIES, contact_id)
            conversations = await conn.fetch(_CONVERSATIONS, contact_id)
            messages = await conn.fetch(_MESSAGES, contact_id)
            actions = await conn.fetch(_ACTIONS, contact_id)
            consents = await conn.fetch(_CONSENTS, contact_id)
            deletions = await conn.fetch(_DELETIONS, contact_id)
            exports = await conn.fetch(_EXPORTS, contact_id)
        return ContactRows(
            contact_id=contact_id,
            identities=[Identity(*row) for row in identities],
            conversations=[Conversation(*row) for row in conversations],
            messages=[
                Message(
                    event_id=row["event_id"],
                    conversation_key=row["conversation_key"],
                    direction=row["direction"],
                    message_type=row["message_type"],
                    sent_at=row["sent_at"],
                    personal=_json(row["personal"]),
                    edited_at=row["edited_at"],
                    revoked_at=row["revoked_at"],
                )
                for row in messages
            ],
            actions=[
                Action(
                    action_id=row["action_id"],
                    conversation_key=row["conversation_key"],
                    type=row["type"],
                    requested_at=row["requested_at"],
                    personal=_json(row["personal"]),
                    intent=row["intent"],
                    reason=row["reason"],
                    in_reply_to=row["in_reply_to"],
                )
                for row in actions
            ],
            consents=[Consent(*row) for row in consents],
            deletions=[Deletion(*row) for row in deletions],
            exports=[Export(*row) for row in exports],
        )

    async def complete(self, export_id: str, path: str, size: int, at: datetime) -> bool:
        """Mark the export completed; False if an erasure or a deletion got there first."""
        async with self.database.connection() as conn:
            row = await conn.fetchrow(_COMPLETE, export_id, path, size, at)
        return row is not None

    async def fail(self, export_id: str, error: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_FAIL, export_id, error)
