"""What the consent and erasure integration tests share: events onto the log, signed
Chatwoot messages from a given contact, and reading a compacted topic back."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi.testclient import TestClient

from ingest.testing import chatwoot_headers
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
from tests.integration.conftest import TEST_CHATWOOT_SECRET
from tests.unit import chatwoot_payloads

ACCOUNT = chatwoot_payloads.ACCOUNT_ID
# A random start per module: message and conversation ids of different modules must not
# meet in the session's shared delivery log and Chatwoot stand-in.
ids = itertools.count(uuid.uuid4().int % 1_000_000_000)


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


def customer_says(
    client: TestClient,
    conversation: int,
    text: str,
    chatwoot_contact: int,
    *,
    name: str = chatwoot_payloads.CONTACT_NAME,
    phone: str = chatwoot_payloads.CONTACT_PHONE,
) -> None:
    """A signed message_created from the given Chatwoot contact."""
    body = chatwoot_payloads.incoming_message()
    body["id"] = next(ids)
    body["content"] = text
    body["conversation"]["id"] = conversation
    for sender in (body["sender"], body["conversation"]["meta"]["sender"]):
        sender.update({"id": chatwoot_contact, "name": name, "phone_number": phone})
    raw = json.dumps(body).encode()
    response = client.post(
        "/webhooks/chatwoot", content=raw, headers=chatwoot_headers(TEST_CHATWOOT_SECRET, raw)
    )
    assert response.status_code == 200, response.text


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
