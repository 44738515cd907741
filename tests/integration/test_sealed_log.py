"""Sealed personal data against the real broker, PostgreSQL and worker: nothing personal in
any record, one key per contact under races, shredding by tombstone, erased contacts skipped."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from fastapi.testclient import TestClient
from pydantic import SecretStr

from datakeys.build import build_keyring
from datakeys.keyring import KeyRing
from datakeys.log import Erasure, encode_erasure
from ingest.app import build_ingest, create_app
from ingest.testing import whatsapp_headers, whatsapp_text_body
from schemas.catalogue import DATA_KEYS, ERASURES, INBOUND
from schemas.events import (
    MessageReceived,
    Personal,
    SealedPersonal,
    plain,
)
from schemas.keys import Pseudonymizer
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from tests.fakes.conversation_events import chatwoot_message
from tests.integration.chatwoot_chat import Requests
from tests.integration.conftest import TEST_SECRET, Worker, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = await Database.connect(PoolConfig(database_url, size=2, max_overflow=0))
    yield db
    await db.close()


async def _ring(settings: Settings, database: Database) -> KeyRing:
    async def get() -> Database:
        return database

    ring = build_keyring(settings, get)
    await ring.start()
    return ring


async def _records(settings: Settings, names: list[str] | None = None) -> list[ConsumerRecord]:
    """Every record, from the earliest offset of every partition, of the run's topics (the
    prefix's, and the worker group's own: table changelogs and the like)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        if names is None:
            prefixes = (settings.switchboard_topic_prefix, settings.switchboard_worker_group)
            names = [t for t in await consumer.topics() if t.startswith(prefixes)]
        cluster = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(t, p) for t in names for p in cluster.partitions_for_topic(t) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[ConsumerRecord] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(records)
        return found
    finally:
        await consumer.stop()


def _bytes(record: ConsumerRecord) -> bytes:
    headers = b"".join(k.encode() + v for k, v in record.headers)
    return (record.key or b"") + (record.value or b"") + headers


async def _message_rows(database_url: str, event_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch("SELECT personal FROM messages WHERE event_id = $1", event_id)
    finally:
        await conn.close()


async def test_no_record_on_any_topic_holds_personal_data_and_the_bot_still_replies(
    client: TestClient,
    settings: Settings,
    database_url: str,
    worker: Worker,
    standin_requests: Requests,
) -> None:
    """A marker and phone number sent in a webhook appear in no key, value or header of any
    topic (events, actions, data keys, the state changelog); PostgreSQL and the reply have them."""
    marker = f"marker-{uuid.uuid4().hex}"
    phone = f"1555{uuid.uuid4().int % 10**7:07d}"
    name = f"Name{uuid.uuid4().hex[:8]}"
    wamid = f"wamid.sealed-{uuid.uuid4().hex}"
    body = whatsapp_text_body(
        wamid=wamid, phone=phone, name=name, text=f"How long does delivery take? {marker}"
    )
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
    )
    assert response.status_code == 200

    async def replied() -> list[dict[str, Any]]:
        return [r for r in standin_requests("graph") if (r.get("json") or {}).get("to") == phone]

    assert await eventually(replied), worker.log()
    rows = await eventually(lambda: _message_rows(database_url, f"wa:{wamid}"))
    assert rows, worker.log()
    assert marker in json.loads(rows[0]["personal"])["text"]
    await asyncio.sleep(2)  # the state table's changelog write follows the reply

    records = await _records(settings)
    topics = {r.topic for r in records}
    assert INBOUND.full_name(settings.switchboard_topic_prefix) in topics
    assert any(t.endswith("-changelog") for t in topics), topics
    for record in records:
        raw = _bytes(record)
        for needle in (marker.encode(), phone.encode(), name.encode()):
            assert needle not in raw, (record.topic, needle)


async def test_two_key_rings_racing_for_a_new_contact_make_one_key(
    settings: Settings, database: Database
) -> None:
    """Two processes asking for a new contact's key at once publish exactly one key record;
    a stale claim whose key never appeared is taken over, again with one record."""
    a, b = await _ring(settings, database), await _ring(settings, database)
    try:
        contact = f"ct_race{uuid.uuid4().hex}"
        keys = await asyncio.gather(*(ring.key_for(contact) for ring in (a, b, a, b)))
        assert len({key.key_id for key in keys}) == 1

        ghost = f"ct_ghost{uuid.uuid4().hex}"
        async with database.connection() as conn:
            await conn.execute(
                "INSERT INTO data_key_claims (topic, contact_id, key_id, claimed_by, claimed_at)"
                " VALUES ($1, $2, 'dk_never_published', 'crashed', now() - interval '1 hour')",
                DATA_KEYS.full_name(settings.switchboard_topic_prefix),
                ghost,
            )
        taken = await asyncio.gather(a.key_for(ghost), b.key_for(ghost))
        assert taken[0].key_id == taken[1].key_id != "dk_never_published"
    finally:
        await a.stop()
        await b.stop()
    records = await _records(settings, [DATA_KEYS.full_name(settings.switchboard_topic_prefix)])
    assert len([r for r in records if r.key == contact.encode()]) == 1
    assert len([r for r in records if r.key == ghost.encode()]) == 1


def _sealed_message(contact: str, text: str) -> MessageReceived:
    return chatwoot_message(
        Personal(text=text),
        contact_id=contact,
        event_id=f"test:{uuid.uuid4().hex}",
        at=datetime.now(UTC),
        subject="cv_test",
        correlation_id="test",
        conversation_id=1,
    )


async def test_a_tombstoned_key_leaves_fresh_readers_with_redacted_data(
    settings: Settings, database: Database
) -> None:
    """After forget(), a following ring drops the key, and a new ring opens the contact's
    events to a redacted Personal without an error."""
    owner, follower = await _ring(settings, database), await _ring(settings, database)
    contact = f"ct_shred{uuid.uuid4().hex}"
    try:
        sealed = await owner.seal(_sealed_message(contact, "secret words"))
        assert isinstance(sealed, MessageReceived)
        assert isinstance(sealed.data.personal, SealedPersonal)
        assert await follower.key_of(contact) is not None
        await owner.forget(contact)

        async def dropped() -> bool:
            return follower.cached_key(contact) is None

        assert await eventually(dropped, timeout=10)
    finally:
        await owner.stop()
        await follower.stop()
    fresh = await _ring(settings, database)
    try:
        opened = await fresh.open(sealed)
        assert isinstance(opened, MessageReceived)
        assert plain(opened.data.personal) == Personal(redacted=True)
    finally:
        await fresh.stop()


async def test_the_worker_skips_events_of_an_erased_contact(
    client: TestClient, settings: Settings, database_url: str, worker: Worker
) -> None:
    """A message of a contact erased after it was written is read but stores nothing; a later
    message of the same contact (after the erasure) is stored."""
    phone = f"1555{uuid.uuid4().int % 10**7:07d}"
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    contact = keys.whatsapp_contact(phone)

    now = int(time.time())
    erasure = Erasure(
        deletion_id=f"del_{uuid.uuid4().hex}",
        erased_at=datetime.fromtimestamp(now, UTC),
        reason="customer_request",
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            ERASURES.full_name(settings.switchboard_topic_prefix),
            key=contact.encode(),
            value=encode_erasure(erasure),
        )
    finally:
        await producer.stop()
    await asyncio.sleep(2)  # the worker's key ring follows the erasures topic

    before_id, after_id = f"wamid.before-{uuid.uuid4().hex}", f"wamid.after-{uuid.uuid4().hex}"
    for wamid, at in ((before_id, now - 60), (after_id, now + 1)):
        body = whatsapp_text_body(wamid=wamid, phone=phone, text="still there?", timestamp=at)
        headers = whatsapp_headers(TEST_SECRET, body)
        assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200
    # Same conversation, same partition: once the later one is stored, the earlier was read.
    assert await eventually(lambda: _message_rows(database_url, f"wa:{after_id}")), worker.log()
    assert await _message_rows(database_url, f"wa:{before_id}") == []
    assert "erased_contact_skipped" in worker.log()


async def test_a_new_contact_gets_503_while_postgresql_is_unreachable(settings: Settings) -> None:
    """No database for the key claim: the webhook is answered 503 with Retry-After, and no
    event of that request reaches the topic."""
    away = settings.model_copy(
        update={"database_url": SecretStr("postgresql://postgres@127.0.0.1:1/none")}
    )
    wamid = f"wamid.nodb-{uuid.uuid4().hex}"
    body = whatsapp_text_body(wamid=wamid, phone=f"1555{uuid.uuid4().int % 10**7:07d}", text="hi")
    with TestClient(create_app(build_ingest(away))) as client:
        response = client.post(
            "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    inbound = await _records(settings, [INBOUND.full_name(settings.switchboard_topic_prefix)])
    assert not [r for r in inbound if wamid.encode() in (r.value or b"")]
