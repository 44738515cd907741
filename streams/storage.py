"""The storage agent: inbound conversation events → PostgreSQL.

Offsets are acknowledged only after the batch is committed in PostgreSQL. Transient
database failures are retried without end (the partition waits; lag shows it); a record
that cannot be decoded or stored goes to the dead-letter topic with the reason, so one
bad record never stops a conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
import structlog

from schemas.events import Event
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.rows import Position
from streams.keys.keyring import KeyRing
from streams.retry import backoff_seconds, is_transient_sqlstate
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.reading import read_event
from streams.runtime.types import Record
from switchboard.sentry import capture

log = structlog.get_logger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN_SECONDS = 0.1


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        return is_transient_sqlstate(exc.sqlstate)
    return isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError | ConnectionError)


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
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.store.write(rows)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                delay = backoff_seconds(attempt)
                log.warning(
                    "postgres_write_retry",
                    error=type(exc).__name__,
                    attempt=attempt,
                    retry_in=round(delay, 2),
                )
                await asyncio.sleep(delay)
            else:
                return
