"""Webhook → Kafka → Faust worker → PostgreSQL, with the real processes."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from fastapi.testclient import TestClient

from ingest.testing import whatsapp_headers, whatsapp_text_body
from switchboard import stack
from switchboard.settings import Settings
from tests.conftest import Fixtures
from tests.integration.conftest import TEST_SECRET, Worker, eventually

pytestmark = pytest.mark.integration


def _post(client: TestClient, body: bytes) -> int:
    return client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
    ).status_code


async def _message_rows(database_url: str, *event_ids: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT event_id, conversation_key, personal FROM messages WHERE event_id = ANY($1)",
            list(event_ids),
        )
    finally:
        await conn.close()


async def _stored(database_url: str, *event_ids: str) -> list[asyncpg.Record] | None:
    rows = await _message_rows(database_url, *event_ids)
    return rows if len({r["event_id"] for r in rows}) == len(event_ids) else None


async def test_signed_message_becomes_a_row_within_seconds(
    client: TestClient, settings: Settings, database_url: str, worker: Worker
) -> None:
    """A signed WhatsApp text answered 200 shows up in PostgreSQL, personal data in `personal`."""
    wamid = f"wamid.e2e-{uuid.uuid4().hex}"
    assert (
        _post(
            client, whatsapp_text_body(wamid=wamid, phone="15550101010", text="Where is my parcel?")
        )
        == 200
    )
    rows = await eventually(lambda: _stored(database_url, f"wa:{wamid}"))
    assert rows, worker.log()
    (row,) = rows
    assert json.loads(row["personal"])["text"] == "Where is my parcel?"
    assert "15550101010" not in row["conversation_key"]


async def test_the_same_body_twice_is_stored_once(
    client: TestClient, database_url: str, worker: Worker
) -> None:
    """A provider's redelivery is answered 200 again but stored, and counted, once."""
    phone = f"1555{uuid.uuid4().int % 10**7:07d}"
    first = whatsapp_text_body(wamid=f"wamid.dup-{uuid.uuid4().hex}", phone=phone, text="one")
    sentinel_id = f"wamid.sentinel-{uuid.uuid4().hex}"
    sentinel = whatsapp_text_body(wamid=sentinel_id, phone=phone, text="two")
    assert [_post(client, first), _post(client, first), _post(client, sentinel)] == [200, 200, 200]
    # Same conversation, same partition: once the sentinel is stored, the duplicate was seen.
    assert await eventually(lambda: _stored(database_url, f"wa:{sentinel_id}")), worker.log()
    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval(
            "SELECT message_count FROM conversations c JOIN messages m USING (conversation_key)"
            " WHERE m.event_id = $1",
            f"wa:{sentinel_id}",
        )
    finally:
        await conn.close()
    assert count == 2


async def test_every_fixture_message_is_stored(
    client: TestClient, database_url: str, worker: Worker, whatsapp_fixtures: Fixtures
) -> None:
    """All real Cloud API bodies are accepted and their messages and statuses stored."""
    for body in whatsapp_fixtures.values():
        raw = json.dumps(body).encode()
        assert _post(client, raw) == 200
    ids = [f"wa:wamid.{i}" for i in ("xyzxyz", "xsidjw", "xsidjx", "wegrchytvwcggt=", "ID")]
    assert await eventually(lambda: _stored(database_url, *ids)), worker.log()

    async def statuses() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM message_statuses"
                    " WHERE provider_message_id = 'wamid.xyzxyz'"
                )
            )
        finally:
            await conn.close()

    # sent, delivered, read, played, failed: one row each, however often redelivered.
    assert await eventually(lambda: _ge(statuses, 5)) == 5


async def _ge(probe: Callable[[], Awaitable[int]], n: int) -> int | None:
    value = await probe()
    return value if value >= n else None


@pytest.mark.faults
async def test_broker_outage_answers_503_then_the_retry_is_stored_once(
    client: TestClient,
    endpoints: stack.Endpoints,
    database_url: str,
    worker: Worker,
) -> None:
    """With the broker stopped a webhook gets 503, never 200; the sender's retry lands once."""
    pid = stack.kafka_pid(Settings()) if endpoints.kafka_local else None
    if pid is None:
        pytest.skip("the broker is external (KAFKA_BOOTSTRAP_SERVERS); it cannot be stopped here")
    wamid = f"wamid.outage-{uuid.uuid4().hex}"
    body = whatsapp_text_body(wamid=wamid, phone="15550303030", text="are you there?")
    os.kill(pid, signal.SIGSTOP)
    try:
        response = client.post(
            "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"]
    finally:
        os.kill(pid, signal.SIGCONT)

    async def retry_until_accepted() -> bool:
        return _post(client, body) == 200

    assert await eventually(retry_until_accepted, timeout=60, interval=1.0)
    rows = await eventually(lambda: _stored(database_url, f"wa:{wamid}"), timeout=60)
    assert rows, worker.log()
    assert len(rows) == 1
