"""`switchboard retention run|policies`: retention from the command line, outside a worker.

Operators run it by hand; tests run it with a simulated clock (``--now``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from aiokafka import AIOKafkaProducer

from schemas.catalogue import topic_for
from schemas.events import Event, encode, kafka_headers
from sinks.postgres.pool import Database, PoolConfig
from streams.retention.aged_rows import RetentionStore
from streams.retention.metrics import RetentionMetrics
from streams.retention.run import Retention, RetentionReport
from switchboard.settings import Settings


class KafkaSink:
    """An `EventSink` over a plain idempotent acks=all producer."""

    def __init__(self, producer: AIOKafkaProducer, prefix: str) -> None:
        self.producer = producer
        self.prefix = prefix

    async def emit(self, events: Sequence[Event]) -> None:
        pending = [
            await self.producer.send(
                topic_for(event).full_name(self.prefix),
                key=event.subject.encode(),
                value=encode(event),
                headers=kafka_headers(event),
            )
            for event in events
        ]
        await asyncio.gather(*pending)


def _pool(settings: Settings) -> PoolConfig:
    return PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)


async def run_once(settings: Settings, now: datetime) -> RetentionReport:
    database = await Database.connect(_pool(settings))
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    try:
        await producer.start()
        sink = KafkaSink(producer, settings.switchboard_topic_prefix)
        return await Retention(RetentionStore(database), sink, RetentionMetrics()).run(now)
    finally:
        await producer.stop()
        await database.close()


async def policies(settings: Settings) -> dict[str, int]:
    database = await Database.connect(_pool(settings))
    try:
        return await RetentionStore(database).policies()
    finally:
        await database.close()
