"""What the consent and erasure integration tests share: a Chatwoot contact's pseudonymous
ids, events onto the log, and reading a compacted topic back."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.catalogue import topic_for
from schemas.events import (
    ConsentChanged,
    ConsentChangedData,
    ConsentType,
    ErasureRequested,
    ErasureRequestedData,
    Event,
    Personal,
    encode,
    kafka_headers,
)
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings
from tests.integration.chatwoot_chat import ACCOUNT


def keys(settings: Settings) -> Pseudonymizer:
    return Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())


def contact_id(settings: Settings, chatwoot_contact: int) -> str:
    return keys(settings).chatwoot_contact(ACCOUNT, chatwoot_contact)


def conversation_key(settings: Settings, conversation: int) -> str:
    return keys(settings).chatwoot_conversation(ACCOUNT, conversation)


async def produce(settings: Settings, *events: Event) -> None:
    """Write events where ingest or the compliance API would, acknowledged by Kafka."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for event in events:
            topic = topic_for(event).full_name(settings.switchboard_topic_prefix)
            await producer.send_and_wait(
                topic, encode(event), key=event.subject.encode(), headers=kafka_headers(event)
            )
    finally:
        await producer.stop()


def consent_event(
    contact: str, consent_type: ConsentType, granted: bool, ip: str | None = None
) -> ConsentChanged:
    return ConsentChanged(
        id=f"consent-test:{uuid.uuid4().hex}",
        source="switchboard",
        time=datetime.now(UTC),
        subject=contact,
        correlation_id=uuid.uuid4().hex,
        data=ConsentChangedData(
            contact_id=contact,
            consent_type=consent_type,
            granted=granted,
            reason="test",
            origin="api",
            personal=Personal(ip_address=ip),
        ),
    )


def erasure_event(contact: str, deletion_id: str, requested_by: str = "test") -> ErasureRequested:
    return ErasureRequested(
        id=f"erasure:{deletion_id}",
        source="switchboard",
        time=datetime.now(UTC),
        subject=contact,
        correlation_id=deletion_id,
        data=ErasureRequestedData(
            contact_id=contact,
            deletion_id=deletion_id,
            reason="customer_request",
            requested_by=requested_by,
        ),
    )


async def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of a topic, every partition, from the earliest offset."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        for _ in range(50):  # the assignment follows the first metadata answer
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        partitions = sorted(consumer.assignment())
        assert partitions, f"{topic} has no partitions"
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[bytes | None, bytes | None]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records.extend((r.key, r.value) for r in batch)
        return records
    finally:
        await consumer.stop()


def latest(records: list[tuple[bytes | None, bytes | None]], key: str) -> Any:
    """The last value for a Faust table ``key`` (None for a tombstone), or ``"absent"``."""
    found: Any = "absent"
    for record_key, value in records:
        if record_key == json.dumps(key).encode():
            found = None if value is None else json.loads(value)
    return found
