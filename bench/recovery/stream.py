"""The steady stream of customers' messages a recovery run keeps up whatever the workers
do, each in a new conversation, produced straight to the inbound topic."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiokafka import AIOKafkaProducer

from bench.harness.customers import Customers
from bench.harness.inbound import chatwoot_event
from datakeys.keyring import KeyRing
from ingest.producer import Record, to_records
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings
from tests.sample_questions import QUESTIONS


class Stream:
    """Messages produced at a steady rate in the background, each in a new conversation,
    sealed with the contact's data key as ingest seals them (so the key exists before the
    worker reads the message, as in production)."""

    def __init__(self, producer: AIOKafkaProducer, keyring: KeyRing, settings: Settings) -> None:
        self.producer, self.keyring = producer, keyring
        self.keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
        self.prefix = settings.switchboard_topic_prefix
        self.customers = Customers()
        self.sent: dict[str, float] = {}  # event id -> when produced (broker-acknowledged)
        self.partition: dict[str, int] = {}  # event id -> inbound partition
        self.conversations: Counter[int] = Counter()  # messages produced per conversation
        self.behind = 0.0  # the longest this sender fell behind its schedule, seconds

    async def sealed(self, count: int) -> list[tuple[Record, str, int]]:
        """(record, event id, conversation) for `count` new conversations."""
        made = []
        for n, conversation in enumerate(self.customers.conversations(count)):
            question = QUESTIONS[n % len(QUESTIONS)]
            event = chatwoot_event(self.customers, conversation, question, self.keys)
            (record,) = to_records([await self.keyring.seal(event)], self.prefix)
            made.append((record, event.id, conversation))
        return made

    async def run(self, rate: int) -> None:
        started, n = time.perf_counter(), 0
        pending: set[asyncio.Task[None]] = set()
        upcoming = asyncio.create_task(self.sealed(rate))
        try:
            while True:
                batch = await upcoming
                upcoming = asyncio.create_task(self.sealed(rate))  # the next second's
                for record, event_id, conversation in batch:
                    delay = started + n / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    self.behind = max(self.behind, -delay)
                    future = await self.producer.send(
                        record.topic, record.value, key=record.key, headers=record.headers
                    )
                    self.conversations[conversation] += 1
                    task = asyncio.create_task(self._acked(event_id, future))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    n += 1
        finally:
            upcoming.cancel()
            await asyncio.gather(upcoming, *pending, return_exceptions=True)

    async def _acked(self, event_id: str, future: asyncio.Future[object]) -> None:
        metadata = await future
        self.sent[event_id] = metadata.timestamp / 1000  # type: ignore[attr-defined]
        self.partition[event_id] = metadata.partition  # type: ignore[attr-defined]
