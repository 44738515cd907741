"""Retention in PostgreSQL: the candidate facts, and the removals a plan decided.

Candidates are pre-filtered in SQL by the policies' cutoffs only to keep them few; the
pure plan decides. Every removal re-checks its cutoff under a row lock, so something that
became active again between planning and removing is kept.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from sinks.postgres.pool import Database
from streams.retention.policy import (
    CONSENT_RECORDS,
    CONTACTS,
    CONVERSATIONS,
    ConsentFact,
    ContactFact,
    ConversationFact,
    cutoff,
)
from streams.retention.requests import REQUESTED_BY

_POLICIES = "SELECT data_category, retention_days FROM data_retention_policies"

# A contact's last interaction: its latest message, consent change or identity sighting.
# Contacts with an unfinished erasure are always listed, so that their conversations are
# left to that erasure.
_CONTACTS = """
WITH activity AS (
    SELECT contact_id, coalesce(last_message_at, first_message_at, created_at) AS at
    FROM conversations
    UNION ALL SELECT contact_id, occurred_at FROM consent_records
    UNION ALL SELECT contact_id, last_seen_at FROM contact_identities
), latest AS (
    SELECT contact_id, max(at) AS last_at FROM activity GROUP BY contact_id
), erasures AS (
    SELECT contact_id, max(requested_at) AS requested_at,
           bool_or(status <> 'completed') AS unfinished
    FROM gdpr_deletions GROUP BY contact_id
)
SELECT l.contact_id, l.last_at, e.requested_at, coalesce(e.unfinished, false) AS unfinished
FROM latest AS l LEFT JOIN erasures AS e USING (contact_id)
WHERE ($1::timestamptz IS NOT NULL AND l.last_at < $1) OR coalesce(e.unfinished, false)
"""

_CONVERSATIONS = """
SELECT conversation_key, contact_id,
       coalesce(last_message_at, first_message_at, created_at) AS last_at
FROM conversations WHERE coalesce(last_message_at, first_message_at, created_at) < $1
"""

_CONSENTS = "SELECT event_id, contact_id, occurred_at FROM consent_records WHERE occurred_at < $1"

_INSERT_DELETIONS = """
INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status, requested_at)
SELECT d, c, 'retention', $3, 'pending', $4 FROM unnest($1::text[], $2::text[]) AS u(d, c)
ON CONFLICT (deletion_id) DO NOTHING
"""

# Retention erasures whose event is not known to be on the log: a run that stopped
# between recording them and appending their events left them; the next run appends them.
_UNANNOUNCED = """
SELECT d.deletion_id, d.contact_id FROM gdpr_deletions AS d
WHERE d.requested_by = $1 AND d.status = 'pending'
  AND NOT EXISTS (
      SELECT 1 FROM audit_log AS a
      WHERE a.actor = $1 AND a.action = 'erasure.requested'
        AND a.detail ->> 'deletion_id' = d.deletion_id
  )
ORDER BY d.deletion_id
"""

_AUDIT = """
INSERT INTO audit_log (actor, action, subject, outcome, detail)
SELECT $1, $2, s, $3, d::jsonb FROM unnest($4::text[], $5::text[]) AS u(s, d)
"""

_LOCK_CONVERSATIONS = """
SELECT conversation_key FROM conversations
WHERE conversation_key = ANY($1)
  AND coalesce(last_message_at, first_message_at, created_at) < $2
FOR UPDATE
"""

# Everything kept per conversation; deliveries hang off its actions.
_DROP_CONVERSATIONS = (
    "DELETE FROM deliveries WHERE action_id IN "
    "(SELECT action_id FROM actions WHERE conversation_key = ANY($1))",
    "DELETE FROM actions WHERE conversation_key = ANY($1)",
    "DELETE FROM message_statuses WHERE conversation_key = ANY($1)",
    "DELETE FROM conversation_status_changes WHERE conversation_key = ANY($1)",
    "DELETE FROM messages WHERE conversation_key = ANY($1)",
    "DELETE FROM conversations WHERE conversation_key = ANY($1)",
)

_DELETE_CONSENTS = """
DELETE FROM consent_records WHERE event_id = ANY($1) AND occurred_at < $2 RETURNING event_id
"""

Facts = tuple[list[ContactFact], list[ConversationFact], list[ConsentFact]]


class RetentionStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def policies(self) -> dict[str, int]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(_POLICIES)
        return {row["data_category"]: row["retention_days"] for row in rows}

    async def facts(self, policies: Mapping[str, int], now: datetime) -> Facts:
        contacts: list[ContactFact] = []
        conversations: list[ConversationFact] = []
        consents: list[ConsentFact] = []
        async with self.database.connection() as conn:
            for row in await conn.fetch(_CONTACTS, cutoff(policies, CONTACTS, now)):
                contacts.append(ContactFact(row[0], row[1], row[2], row[3]))
            if (limit := cutoff(policies, CONVERSATIONS, now)) is not None:
                for row in await conn.fetch(_CONVERSATIONS, limit):
                    conversations.append(ConversationFact(row[0], row[1], row[2]))
            if (limit := cutoff(policies, CONSENT_RECORDS, now)) is not None:
                for row in await conn.fetch(_CONSENTS, limit):
                    consents.append(ConsentFact(row[0], row[1], row[2]))
        return contacts, conversations, consents

    async def record_erasures(self, erasures: Sequence[tuple[str, str]], now: datetime) -> None:
        """Insert (deletion id, contact id) rows, pending; ones already there stay as they are."""
        if not erasures:
            return
        deletions, contacts = zip(*erasures, strict=True)
        async with self.database.connection() as conn:
            await conn.execute(
                _INSERT_DELETIONS, list(deletions), list(contacts), REQUESTED_BY, now
            )

    async def unannounced(self) -> list[tuple[str, str]]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(_UNANNOUNCED, REQUESTED_BY)
        return [(row[0], row[1]) for row in rows]

    async def announced(self, erasures: Sequence[tuple[str, str]]) -> None:
        """Audit that these erasures' events are on the log."""
        details = [json.dumps({"deletion_id": deletion}) for deletion, _ in erasures]
        subjects = [contact for _, contact in erasures]
        await self._audit("erasure.requested", "appended", subjects, details)

    async def audit_run(self, run: str, counts: Mapping[str, int]) -> None:
        await self._audit(
            "retention.run", "completed", [None], [json.dumps({"run": run, **counts})]
        )

    async def _audit(
        self, action: str, outcome: str, subjects: Sequence[str | None], details: Sequence[str]
    ) -> None:
        if not subjects:
            return
        async with self.database.connection() as conn:
            await conn.execute(_AUDIT, REQUESTED_BY, action, outcome, subjects, details)

    async def drop_conversations(
        self,
        keys: Sequence[str],
        limit: datetime,
        announce: Callable[[Sequence[str]], Awaitable[None]],
    ) -> list[str]:
        """Delete the conversations still past ``limit``, after ``announce`` (which appends
        their erasure events) returned: a crash in between leaves them for the next run."""
        async with self.database.connection() as conn, conn.transaction():
            locked = [row[0] for row in await conn.fetch(_LOCK_CONVERSATIONS, list(keys), limit)]
            if not locked:
                return []
            await announce(locked)
            for statement in _DROP_CONVERSATIONS:
                await conn.execute(statement, locked)
        return locked

    async def delete_consent_records(self, event_ids: Sequence[str], limit: datetime) -> int:
        if not event_ids:
            return 0
        async with self.database.connection() as conn:
            rows = await conn.fetch(_DELETE_CONSENTS, list(event_ids), limit)
        return len(rows)
