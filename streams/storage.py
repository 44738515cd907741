"""The storage agent: inbound events and actions → PostgreSQL, in shared batches.

Offsets are acknowledged only after the batch is committed in PostgreSQL. Transient
database failures are retried without end (the partition waits; lag shows it); a record
that cannot be decoded or stored goes to the dead-letter topic with the reason, so one
bad record never stops a conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from datakeys.keyring import KeyRing
from schemas.events import Event
from schemas.position import Position
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.errors import is_transient
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.reading import read_event
from streams.runtime.types import Record
from switchboard.retrying import backoff, retrying
from switchboard.sentry import capture

BATCH_SIZE = 500
BATCH_WITHIN_SECONDS = 0.1


def position(event: Record) -> Position:
    message = event.message
    return Position(message.topic, message.partition, message.offset)


class StorageAgent:
    def __init__(
        self, store: ConversationStore, keyring: KeyRing, dead_letters: DeadLetters
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.dead_letters = dead_letters

    async def handle(self, batch: Sequence[Record]) -> None:
        decoded: list[tuple[Event, Position, Record]] = []
        for record in batch:
            # Opened here, so rows hold plaintext; forgotten contacts' events write nothing.
            event = await read_event(record, self.keyring, self.dead_letters)
            if event is not None:
                decoded.append((event, position(record), record))
        try:
            await self._write_retrying([(e, p) for e, p, _ in decoded])
        except asyncpg.PostgresError:
            # Something in the batch is refused for good: find it, store the rest.
            for event, pos, record in decoded:
                try:
                    await self._write_retrying([(event, pos)])
                except asyncpg.PostgresError as exc:
                    capture(exc, agent="store", sqlstate=str(exc.sqlstate))
                    await self.dead_letters.send(record, f"rejected:{exc.sqlstate}")

    async def _write_retrying(self, rows: Sequence[tuple[Event, Position]]) -> None:
        """Transient failures are retried without end; the first other one is raised."""
        policy = retrying(
            backoff("dependency"), "store", transient=is_transient, event="postgres_write_retry"
        )
        await policy(self.store.write, rows)
