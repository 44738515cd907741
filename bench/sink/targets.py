"""The targets written through this process's own connection: the worker's store call, one
event or a batch a transaction, and the same rows by `executemany` and by COPY; each timed
with the machine's busy cores meanwhile."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.harness.meter import busy_seconds
from bench.sink.rows import chunks
from schemas.events import Event
from schemas.position import Position
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.rows import InboundMessage
from streams.storage import BATCH_SIZE

WORKER = "worker path, 1 event a transaction"
STORE_BATCHED = f"store, {BATCH_SIZE} events a transaction"
EXECUTEMANY = f"executemany, {BATCH_SIZE} rows a transaction"
COPY = f"COPY, {BATCH_SIZE} rows a transaction"

_CONVERSATION = """
INSERT INTO conversations (conversation_key, channel, contact_id, route, first_message_at)
VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (conversation_key) DO NOTHING
"""
_MESSAGE = """
INSERT INTO messages (
    event_id, conversation_key, contact_id, direction, source, provider_message_id,
    message_type, in_reply_to, personal, sent_at, correlation_id,
    kafka_topic, kafka_partition, kafka_offset
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
ON CONFLICT DO NOTHING
"""
CONVERSATION_COLUMNS = ["conversation_key", "channel", "contact_id", "route", "first_message_at"]
MESSAGE_COLUMNS = [
    *("event_id", "conversation_key", "contact_id", "direction", "source"),
    *("provider_message_id", "message_type", "in_reply_to", "personal", "sent_at"),
    *("correlation_id", "kafka_topic", "kafka_partition", "kafka_offset"),
]


@dataclass
class Run:
    target: str
    rows: int
    seconds: float
    busy: float  # the machine's busy cores meanwhile

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


async def timed(target: str, rows: int, work: Awaitable[None]) -> Run:
    busy, started = busy_seconds(), time.perf_counter()
    await work
    seconds = time.perf_counter() - started
    return Run(target, rows, seconds, (busy_seconds() - busy) / seconds)


async def store_each(store: ConversationStore, batch: Sequence[tuple[Event, Position]]) -> None:
    for item in batch:
        await store.write([item])


async def store_batched(store: ConversationStore, batch: Sequence[tuple[Event, Position]]) -> None:
    for part in chunks(batch, BATCH_SIZE):
        await store.write(part)


async def executemany(conn: Any, rows: Sequence[InboundMessage]) -> None:
    for part in chunks(rows, BATCH_SIZE):
        async with conn.transaction():
            await conn.executemany(_CONVERSATION, [r.conversation for r in part])
            await conn.executemany(_MESSAGE, [r.message for r in part])


async def copy(conn: Any, rows: Sequence[InboundMessage]) -> None:
    """COPY knows no ON CONFLICT: a conversation goes in with its first message only."""
    seen: set[str] = set()
    for part in chunks(rows, BATCH_SIZE):
        new = {r.conversation[0]: r.conversation for r in part if r.conversation[0] not in seen}
        seen.update(new)
        async with conn.transaction():
            if new:
                await conn.copy_records_to_table(
                    "conversations", records=list(new.values()), columns=CONVERSATION_COLUMNS
                )
            await conn.copy_records_to_table(
                "messages", records=[r.message for r in part], columns=MESSAGE_COLUMNS
            )
