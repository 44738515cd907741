"""Writing records keyed by contact id from inside the worker: the data keys' tombstones and
the erasure proofs, through Faust's producer."""

from __future__ import annotations

from schemas.catalogue import ROLL_KEY, Topic
from streams.runtime.types import App, KafkaTopic


class KafkaKeyed:
    """Records keyed by contact id on one topic, awaited until Kafka acknowledged them."""

    def __init__(self, topic: KafkaTopic) -> None:
        self.topic = topic

    @classmethod
    def on(cls, app: App, topic: Topic, prefix: str) -> KafkaKeyed:
        return cls(app.topic(topic.full_name(prefix), key_serializer="raw", value_serializer="raw"))

    async def _send(self, contact_id: str, value: bytes | None) -> None:
        sent = await self.topic.send(key=contact_id.encode(), value=value)
        await sent

    async def tombstone(self, contact_id: str) -> None:
        await self._send(contact_id, None)

    async def publish(self, contact_id: str, value: bytes) -> None:
        await self._send(contact_id, value)

    async def roll(self, partitions: int) -> None:
        """A roll marker on every partition: the record that lets Kafka close the segment
        a tombstone sits in, so the cleaner can remove what it deletes (COMPACTION_BOUND_MS)."""
        for partition in range(partitions):
            await (await self.topic.send(key=ROLL_KEY, value=None, partition=partition))
