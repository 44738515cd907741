"""What the worker's agents share, one of each per process: the PostgreSQL pool and the key
ring (both opened by whichever agent needs them first), the metrics, the dead letters, the
sealed topic log, and how an agent reads its records (opened, in offset order)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from datakeys.keyring import KeyRing
from schemas.events import Event
from sinks.postgres.errors import is_transient
from sinks.postgres.pool import Database, PoolConfig
from streams.metrics.registry import WorkerMetrics
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.emit import TopicLog
from streams.runtime.reading import decoded, ordered_reader
from streams.runtime.record_order import Reader
from streams.runtime.types import App, Record, Stream
from switchboard.retrying import backoff, retrying
from switchboard.settings import Settings

log = structlog.get_logger(__name__)


class DatabaseSource(Protocol):
    """The process's pool, opened on first use (`sinks.postgres.pool.LazyDatabase`)."""

    async def get(self) -> Database: ...

    async def close(self) -> None: ...


async def connect_database(config: PoolConfig) -> Database:
    """Wait for PostgreSQL rather than crash: a worker may start before its database."""
    policy = retrying(
        backoff("dependency"), "connect", transient=is_transient, event="postgres_unavailable"
    )
    database: Database = await policy(Database.connect, config)
    return database


class SharedKeyRing:
    """One key ring per process, started (topics read to their end) by the first agent."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._started = False
        self._lock = asyncio.Lock()

    async def get(self) -> KeyRing:
        async with self._lock:
            if not self._started:
                await self._keyring.start()
                self._started = True
            return self._keyring

    def unstarted(self) -> KeyRing:
        """For the topic log, which seals only once an agent (that started it) runs."""
        return self._keyring

    async def close(self) -> None:
        if self._started:
            await self._keyring.stop()
            self._started = False


@dataclass(frozen=True)
class Shared:
    """Handed to each ``wire_*`` function: the app to declare on, and what it shares."""

    app: App
    settings: Settings
    database: DatabaseSource
    keys: SharedKeyRing
    metrics: WorkerMetrics
    dead_letters: DeadLetters
    # Everything the worker writes is sealed with the contact's key first.
    action_log: TopicLog

    async def opened(
        self, stream: Stream, dead_letters: DeadLetters
    ) -> AsyncIterator[tuple[Record, Event]]:
        """The manual-ack iterator of the unordered agents: sealed personal data opened,
        forgotten contacts' events skipped, undecodable records dead-lettered."""
        async for item in decoded(stream, await self.keys.get(), dead_letters):
            yield item

    def in_order(self, agent: str) -> Reader[Record]:
        """The ordered agents' reader: a record missing from Faust's stream is read again."""
        metrics = self.metrics

        def noticed(tp: Any, missing: int, offset: int) -> None:
            log.warning(
                "record_missing_reading_again",
                agent=agent,
                topic=tp.topic,
                partition=tp.partition,
                missing=missing,
                offset=offset,
            )
            metrics.commit_repairs.labels(tp.topic, "record_missing").inc()

        return ordered_reader(self.app, noticed)
