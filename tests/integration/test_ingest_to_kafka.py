"""Signed webhooks reach the real broker as typed, keyed events: exactly those, once each."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from datakeys.testing import in_memory_keyring
from ingest.normalise.whatsapp import normalise
from ingest.producer import KafkaEventLog
from ingest.sealing import SealingEventLog
from ingest.testing import whatsapp_headers, whatsapp_text_body
from schemas.catalogue import CONTACT_EVENTS, INBOUND, topic_for
from schemas.events import decode
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings
from tests.conftest import Fixtures
from tests.integration.conftest import TEST_SECRET

pytestmark = pytest.mark.integration


async def _consume(settings: Settings, correlation_ids: set[str], expected: int) -> list[Any]:
    """Every record of the topics ingest writes whose correlation id is one of ours. (Not
    the actions topic: a worker running in the same session answers these events there,
    under the same correlation ids.)"""
    consumer = AIOKafkaConsumer(
        *[t.full_name(settings.switchboard_topic_prefix) for t in (INBOUND, CONTACT_EVENTS)],
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found = []
    try:
        for _ in range(60):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    headers = dict(record.headers)
                    if headers.get("correlation-id", b"").decode() in correlation_ids:
                        found.append(record)
            if len(found) >= expected and not batch:
                break
    finally:
        await consumer.stop()
    return found


async def test_every_fixture_body_produces_exactly_its_events(
    client: TestClient, settings: Settings, whatsapp_fixtures: Fixtures
) -> None:
    """Each real Cloud API body, signed, yields exactly its events, keyed by subject."""
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    expected: Counter[tuple[str, str, str]] = Counter()
    correlation_ids = set()
    for (file, case), body in whatsapp_fixtures.items():
        raw = json.dumps(body).encode()
        request_id = f"fixture-{uuid.uuid4().hex}"
        response = client.post(
            "/webhooks/whatsapp",
            content=raw,
            headers={**whatsapp_headers(TEST_SECRET, raw), "X-Request-ID": request_id},
        )
        assert response.status_code == 200, (file, case, response.text)
        correlation_ids.add(request_id)
        for event in normalise(
            body, source="whatsapp-cloud", keys=keys, correlation_id=request_id
        ).events:
            topic = topic_for(event).full_name(settings.switchboard_topic_prefix)
            expected[(topic, event.subject, event.id)] += 1

    records = await _consume(settings, correlation_ids, sum(expected.values()))
    produced = Counter((r.topic, r.key.decode(), decode(r.value).id) for r in records)
    assert produced == expected
    for record in records:
        event = decode(record.value)
        assert dict(record.headers)["type"].decode() == event.type


async def test_phone_numbers_never_appear_in_keys_or_headers(
    client: TestClient, settings: Settings, whatsapp_fixtures: Fixtures
) -> None:
    """Kafka keys and headers carry pseudonymous ids only."""
    body = json.dumps(whatsapp_fixtures[("message.json", "text")]).encode()
    request_id = f"pii-{uuid.uuid4().hex}"
    client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={**whatsapp_headers(TEST_SECRET, body), "X-Request-ID": request_id},
    )
    (record,) = await _consume(settings, {request_id}, 1)
    exposed = record.key + b"".join(v for _, v in record.headers)
    for needle in (b"972987654321", b"Test Name", b"US.13491208655302741918"):
        assert needle not in exposed


async def test_an_event_over_the_record_size_is_refused_413_and_writes_nothing(
    client: TestClient, settings: Settings
) -> None:
    """A signed body under the body limit whose event Kafka could never take gets 413 (a 503
    would have the provider retry it for days), and nothing of it, nor of the body batched
    with it, reaches the log; the same message at a normal size is written."""
    request_id = f"huge-{uuid.uuid4().hex}"
    huge = whatsapp_text_body(
        wamid=f"wamid.{request_id}", phone="15550202020", text="x" * 1_100_000
    )
    assert len(huge) < settings.switchboard_max_body_bytes
    response = client.post(
        "/webhooks/whatsapp",
        content=huge,
        headers={**whatsapp_headers(TEST_SECRET, huge), "X-Request-ID": request_id},
    )
    assert response.status_code == 413, response.text
    assert "Retry-After" not in response.headers
    normal_id = f"normal-{uuid.uuid4().hex}"
    normal = whatsapp_text_body(wamid=f"wamid.{normal_id}", phone="15550202020", text="x" * 4096)
    response = client.post(
        "/webhooks/whatsapp",
        content=normal,
        headers={**whatsapp_headers(TEST_SECRET, normal), "X-Request-ID": normal_id},
    )
    assert response.status_code == 200, response.text
    records = await _consume(settings, {request_id, normal_id}, 1)
    assert [decode(r.value).id for r in records] == [f"wa:wamid.{normal_id}"]


async def test_webhooks_of_one_conversation_in_flight_at_once_are_each_written_once(
    settings: Settings,
) -> None:
    """300 appends of one customer's messages at once (one partition, far more than Kafka's
    default batch holds) all return acknowledged, and each event is in the log exactly once."""
    event_log = SealingEventLog(
        KafkaEventLog(
            settings.kafka_bootstrap_servers,
            settings.switchboard_topic_prefix,
            settings.switchboard_produce_timeout_seconds,
        ),
        in_memory_keyring(),
    )
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    run = uuid.uuid4().hex
    batches = [
        normalise(
            json.loads(
                whatsapp_text_body(wamid=f"wamid.{run}-{n}", phone="15550303030", text="hi")
            ),
            source="whatsapp-cloud",
            keys=keys,
            correlation_id=f"{run}-{n}",
        ).events
        for n in range(300)
    ]
    await event_log.start()
    try:
        await asyncio.gather(*(event_log.append(events) for events in batches))
    finally:
        await event_log.stop()
    records = await _consume(settings, {f"{run}-{n}" for n in range(300)}, 300)
    ids = Counter(decode(r.value).id for r in records)
    assert sorted(ids) == sorted(f"wa:wamid.{run}-{n}" for n in range(300))
    assert set(ids.values()) == {1}
