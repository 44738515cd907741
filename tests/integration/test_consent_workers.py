"""Two workers: a consent change handled by the worker that owns the contact's partition
stops the bot in conversations that the other worker owns (the consent view follows the
table's changelog in every worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from schemas.catalogue import INBOUND
from switchboard.settings import Settings
from tests.integration.chatwoot_chat import ACCOUNT, Requests, customer_says, ids
from tests.integration.conftest import Worker, eventually, isolated, settings_env
from tests.integration.privacy_helpers import (
    consent_event,
    contact_id,
    conversation_key,
    produce,
)

pytestmark = pytest.mark.integration


@dataclass
class Pair:
    settings: Settings
    workers: tuple[Worker, Worker]
    client: TestClient


async def _members(settings: Settings) -> tuple[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        (answer,) = await admin.describe_consumer_groups([settings.switchboard_worker_group])
        (group,) = answer.to_object()["groups"]
        return group["state"], len(group["members"])
    finally:
        await admin.close()


@pytest.fixture
async def pair(settings: Settings, tmp_path: Path) -> AsyncIterator[Pair]:
    own = await isolated(settings, "consent-pair")
    workers = tuple(
        Worker(settings_env(own, tmp_path / name), tmp_path / f"{name}.log") for name in "ab"
    )
    for worker in workers:
        (tmp_path / worker.log_path.stem).mkdir()
    with TestClient(create_app(build_ingest(own))) as client:
        try:
            for worker in workers:
                worker.start()

            async def both_in() -> bool:
                return await _members(own) == ("Stable", 2)

            assert await eventually(both_in, timeout=90, interval=1.0)
            yield Pair(own, (workers[0], workers[1]), client)
        finally:
            for worker in workers:
                worker.stop()


def _conversations_on_every_partition(settings: Settings) -> list[int]:
    """Conversation ids whose keys cover every inbound partition, so both workers own some."""
    partitioner = DefaultPartitioner()
    every = list(range(INBOUND.partitions))
    chosen: dict[int, int] = {}
    while len(chosen) < len(every):
        conversation = next(ids)
        key = conversation_key(settings, conversation).encode()
        chosen.setdefault(partitioner(key, every, every), conversation)
    return list(chosen.values())


def _to(conversation: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prefix = f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/"
    return [r for r in requests if r["method"] == "POST" and r["path"].startswith(prefix)]


async def test_a_withdrawal_reaches_conversations_on_the_other_worker(
    pair: Pair, standin_requests: Requests
) -> None:
    """Communication consent withdrawn: every one of the contact's conversations, on every
    partition and so on both workers, is handed to a person with no public message."""
    chatwoot_contact = next(ids)
    contact = contact_id(pair.settings, chatwoot_contact)
    await produce(pair.settings, consent_event(contact, "communication", granted=False))

    async def recorded() -> bool:
        conn = await asyncpg.connect(pair.settings.database_url.get_secret_value())
        try:
            query = "SELECT 1 FROM consent_records WHERE contact_id = $1"
            return bool(await conn.fetch(query, contact))
        finally:
            await conn.close()

    assert await eventually(recorded, timeout=60), [w.log()[-4000:] for w in pair.workers]
    await asyncio.sleep(2.0)  # the other worker's view reads the changelog within this
    conversations = _conversations_on_every_partition(pair.settings)
    for conversation in conversations:
        customer_says(pair.client, conversation, "How long does delivery take?", chatwoot_contact)

    async def all_handed_off() -> bool:
        requests = standin_requests("chatwoot")
        return all(
            any(r["path"].endswith("/toggle_status") for r in _to(c, requests))
            for c in conversations
        )

    assert await eventually(all_handed_off, timeout=60), [w.log()[-3000:] for w in pair.workers]
    await asyncio.sleep(1.0)
    requests = standin_requests("chatwoot")
    for conversation in conversations:
        public = [
            r
            for r in _to(conversation, requests)
            if r["path"].endswith("/messages") and not r["json"].get("private")
        ]
        assert public == [], conversation
