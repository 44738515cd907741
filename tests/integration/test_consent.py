"""Consent changes reach the consent table and its history, and the flow obeys them. Real
processes: ingest in-process, the worker as a subprocess, Kafka, PostgreSQL and the
Chatwoot stand-in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient

from ingest.testing import whatsapp_headers
from switchboard.settings import Settings
from tests.integration.chatwoot_chat import ACCOUNT, Requests, customer_says, ids
from tests.integration.conftest import TEST_SECRET, Worker, eventually
from tests.integration.privacy_helpers import (
    consent_event,
    contact_id,
    latest,
    produce,
    read_topic,
)

pytestmark = pytest.mark.integration


async def _records(settings: Settings, contact: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        return await conn.fetch(
            "SELECT * FROM consent_records WHERE contact_id = $1 ORDER BY occurred_at", contact
        )
    finally:
        await conn.close()


async def test_a_consent_change_updates_the_table_and_the_history(
    settings: Settings, worker: Worker
) -> None:
    """consent.changed on contact-events.v1 → a consent_records row and the table entry."""
    contact = contact_id(settings, next(ids))
    event = consent_event(contact, "marketing", granted=True, ip="203.0.113.7")
    await produce(settings, event)

    async def stored() -> list[asyncpg.Record]:
        return await _records(settings, contact)

    rows = await eventually(stored)
    assert len(rows) == 1, worker.log()
    (row,) = rows
    assert (row["event_id"], row["consent_type"], row["granted"]) == (event.id, "marketing", True)
    assert (row["source"], row["reason"], str(row["ip_address"])) == ("api", "test", "203.0.113.7")

    changelog = f"{settings.switchboard_worker_group}-consent-changelog"
    state = latest(await read_topic(settings.kafka_bootstrap_servers, changelog), contact)
    assert state["grants"]["marketing"]["granted"] is True
    assert state["grants"]["marketing"]["origin"] == "api"

    await produce(settings, event)  # the same event again: still one row
    await asyncio.sleep(1.0)
    assert len(await _records(settings, contact)) == 1


async def test_whatsapp_marketing_preferences_are_recorded(
    client: TestClient, settings: Settings, worker: Worker, whatsapp_fixtures: Any
) -> None:
    """The signed user_preferences webhook (marketing resumed) becomes a consent_records row."""
    raw = json.dumps(whatsapp_fixtures[("user_marketing_preferences.json", "resume")]).encode()
    response = client.post(
        "/webhooks/whatsapp", content=raw, headers=whatsapp_headers(TEST_SECRET, raw)
    )
    assert response.status_code == 200, response.text

    async def recorded() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(settings.database_url.get_secret_value())
        try:
            return await conn.fetch(
                "SELECT * FROM consent_records WHERE reason = 'whatsapp:resume'"
            )
        finally:
            await conn.close()

    rows = await eventually(recorded)
    assert len(rows) == 1, worker.log()
    assert rows[0]["consent_type"] == "marketing"
    assert rows[0]["granted"] is True
    assert rows[0]["source"] == "whatsapp-cloud"


def _to(conversation: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prefix = f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/"
    return [
        r
        for r in requests
        if r["method"] == "POST" and r["path"].startswith(prefix) and r["status"] == 200
    ]


async def test_withdrawn_communication_consent_means_a_human_and_no_bot_reply(
    client: TestClient, settings: Settings, worker: Worker, standin_requests: Requests
) -> None:
    """After communication consent is withdrawn, a question is handed to a person silently:
    toggle_status open and a private note, no public message."""
    silent, control = next(ids), next(ids)
    contact = contact_id(settings, silent)
    await produce(settings, consent_event(contact, "communication", granted=False))

    async def withdrawn() -> list[asyncpg.Record]:
        return await _records(settings, contact)

    assert await eventually(withdrawn), worker.log()

    conversation, other = next(ids), next(ids)
    customer_says(client, conversation, "How long does delivery take?", silent)
    customer_says(client, other, "How long does delivery take?", control)

    async def handled() -> bool:
        requests = standin_requests("chatwoot")
        return len(_to(conversation, requests)) >= 2 and len(_to(other, requests)) >= 1

    assert await eventually(handled), worker.log()
    await asyncio.sleep(1.0)
    received = _to(conversation, standin_requests("chatwoot"))
    assert [r["path"].rsplit("/", 1)[-1] for r in received] == ["messages", "toggle_status"]
    note, toggle = received
    assert note["json"]["private"] is True
    assert "consent" in note["json"]["content"]
    assert toggle["json"] == {"status": "open"}
    public = [r for r in _to(other, standin_requests("chatwoot")) if not r["json"].get("private")]
    assert len(public) == 1  # the other contact still gets its answer
