"""The PostgreSQL sink for conversation events: idempotent writes, one transaction a batch.

Every statement is keyed by the event id (or the provider's message id), so writing the
same batch twice, after a crash before the offset commit or in a replay, changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.events import Event
from schemas.identities import identities_of
from schemas.keys import Pseudonymizer
from schemas.position import Position
from schemas.sealing import contact_of
from sinks.postgres import erasure_fence
from sinks.postgres.identities import record_identities
from sinks.postgres.pool import Database
from sinks.postgres.rows import (
    ActionRow,
    AuditRow,
    ConversationStatusRow,
    Edit,
    InboundMessage,
    StatusRow,
    to_row,
)

_UPSERT_CONVERSATIONS = """
INSERT INTO conversations (conversation_key, channel, contact_id, route, first_message_at)
SELECT k, ch, ct, r::jsonb, t
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(k, ch, ct, r, t)
ON CONFLICT (conversation_key) DO NOTHING
"""

# Counting only what was really inserted keeps message_count right under redelivery.
_INSERT_MESSAGES = """
WITH inserted AS (
    INSERT INTO messages (
        event_id, conversation_key, contact_id, direction, source, provider_message_id,
        message_type, in_reply_to, personal, sent_at, correlation_id,
        kafka_topic, kafka_partition, kafka_offset
    )
    SELECT id, k, ct, dir, src, pid, mt, irt, p::jsonb, t, cid, kt, kp, ko
    FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::timestamptz[], $11::text[], $12::text[], $13::int[],
        $14::bigint[]
    ) AS u(id, k, ct, dir, src, pid, mt, irt, p, t, cid, kt, kp, ko)
    ON CONFLICT DO NOTHING
    RETURNING conversation_key, sent_at
), added AS (
    SELECT conversation_key, count(*) AS n, min(sent_at) AS first, max(sent_at) AS last
    FROM inserted GROUP BY conversation_key
)
UPDATE conversations AS c
SET message_count = c.message_count + added.n,
    first_message_at = LEAST(c.first_message_at, added.first),
    last_message_at = GREATEST(c.last_message_at, added.last),
    updated_at = now()
FROM added
WHERE c.conversation_key = added.conversation_key
"""

_INSERT_STATUS = """
INSERT INTO message_statuses (
    event_id, conversation_key, contact_id, provider_message_id, status, errors, occurred_at
) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
ON CONFLICT (event_id) DO NOTHING
"""

_INSERT_CONVERSATION_STATUS = """
INSERT INTO conversation_status_changes (
    event_id, conversation_key, status, previous_status, assignee_type, occurred_at
) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (event_id) DO NOTHING
"""

_SET_CONVERSATION_STATUS = """
UPDATE conversations SET status = $2, updated_at = now() WHERE conversation_key = $1
"""

_EDIT_MESSAGE = """
UPDATE messages SET personal = $3::jsonb, edited_at = $4
WHERE source = $1 AND provider_message_id = $2
"""

# A message revoked "for everyone" should stop existing for us too: its content goes.
_REVOKE_MESSAGE = """
UPDATE messages SET personal = '{}'::jsonb, revoked_at = $3
WHERE source = $1 AND provider_message_id = $2
"""


_INSERT_ACTION = """
INSERT INTO actions (
    action_id, conversation_key, contact_id, type, in_reply_to, intent, reason, personal,
    requested_at, correlation_id, kafka_topic, kafka_partition, kafka_offset
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13)
ON CONFLICT (action_id) DO NOTHING
"""


# Audit rows are evidence, not data about the person: the erasure fence does not drop them.
_INSERT_AUDIT = """
INSERT INTO audit_log (event_id, occurred_at, actor, action, subject, outcome, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
"""


def _columns(rows: Sequence[tuple[object, ...]]) -> list[list[object]]:
    return [list(column) for column in zip(*rows, strict=True)]


class ConversationStore:
    def __init__(self, database: Database, keys: Pseudonymizer | None = None) -> None:
        self.database = database
        # With keys, the identities of each received message's contact are recorded too.
        self.keys = keys

    async def write(self, batch: Sequence[tuple[Event, Position]]) -> int:
        """Store a batch in log order, in one transaction; return how many rows it maps to.
        What an erasure already forgot is left out (sinks/postgres/erasure_fence.py)."""
        async with self.database.connection() as conn, conn.transaction():
            contacts = [contact_of(event) for event, _ in batch]
            erased = await erasure_fence.enter(conn, [c for c in contacts if c is not None])
            kept = [
                (event, position)
                for (event, position), contact in zip(batch, contacts, strict=True)
                if not erasure_fence.forgotten(erased, contact, event.time)
            ]
            audits = [
                row
                for event, position in batch
                if isinstance(row := to_row(event, position), AuditRow)
            ]
            rows = [
                row
                for event, position in kept
                if (row := to_row(event, position)) and not isinstance(row, AuditRow)
            ]
            inbound = [r for r in rows if isinstance(r, InboundMessage)]
            if inbound:
                await conn.execute(
                    _UPSERT_CONVERSATIONS, *_columns([r.conversation for r in inbound])
                )
                await conn.execute(_INSERT_MESSAGES, *_columns([r.message for r in inbound]))
            if self.keys is not None:
                keys = self.keys
                identities = [row for event, _ in kept for row in identities_of(event, keys)]
                await record_identities(conn, identities)
            # The rest is rare and order-sensitive (an edit after its message): row by row.
            for row in rows:
                if isinstance(row, StatusRow):
                    await conn.execute(_INSERT_STATUS, *row.values)
                elif isinstance(row, ConversationStatusRow):
                    await conn.execute(_INSERT_CONVERSATION_STATUS, *row.values)
                    await conn.execute(_SET_CONVERSATION_STATUS, row.values[1], row.status)
                elif isinstance(row, Edit) and row.personal is not None:
                    await conn.execute(
                        _EDIT_MESSAGE, row.source, row.provider_message_id, row.personal, row.at
                    )
                elif isinstance(row, Edit):
                    await conn.execute(_REVOKE_MESSAGE, row.source, row.provider_message_id, row.at)
                elif isinstance(row, ActionRow):
                    await conn.execute(_INSERT_ACTION, *row.values)
            for audit in audits:
                await conn.execute(_INSERT_AUDIT, *audit.values)
        return len(rows) + len(audits)
