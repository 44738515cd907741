"""Replay attacks through the HTTP app, against the real broker, database and worker: an
authentic Chatwoot delivery replayed after the tolerance is refused and writes nothing; the
same WhatsApp message delivered twice is stored once and answered once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from ingest.testing import chatwoot_headers, whatsapp_headers, whatsapp_text_body
from schemas.catalogue import INBOUND
from schemas.events import decode
from switchboard.settings import Settings
from tests.fakes import chatwoot_payloads
from tests.integration.chatwoot_chat import Requests
from tests.integration.conftest import (
    TEST_CHATWOOT_SECRET,
    TEST_SECRET,
    Worker,
    eventually,
    isolated,
)
from tests.integration.privacy_helpers import read_topic

pytestmark = pytest.mark.integration

STALE = "X-Chatwoot-Timestamp is outside the accepted window of 300 seconds"


class Clock:
    """Ingest's clock, moved by the test: a replay 'later' without waiting for it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _message_created() -> tuple[int, bytes]:
    body = chatwoot_payloads.incoming_message()
    body["id"] = uuid.uuid4().int % 10**12
    body["conversation"]["id"] = uuid.uuid4().int % 10**9
    return body["id"], json.dumps(body).encode()


async def test_a_chatwoot_delivery_replayed_after_the_tolerance_is_refused_and_writes_nothing(
    settings: Settings,
) -> None:
    """An authentic delivery is accepted; the same bytes and headers sent again once the
    tolerance has passed get 403 with the reason, are counted as stale_timestamp, and the
    inbound topic holds the event once. A delivery signed long ago and never seen before is
    refused the same way and writes nothing."""
    own = await isolated(settings, "replayed")
    assert own.chatwoot_signature_tolerance_seconds == 300
    ingest = build_ingest(own)
    clock = ingest.clock = Clock()
    message_id, body = _message_created()
    headers = chatwoot_headers(
        TEST_CHATWOOT_SECRET, body, timestamp=int(clock.now), delivery=str(uuid.uuid4())
    )
    late_id, late_body = _message_created()
    captured = chatwoot_headers(TEST_CHATWOOT_SECRET, late_body, timestamp=int(clock.now) - 3600)
    with TestClient(create_app(ingest)) as client:
        first = client.post("/webhooks/chatwoot", content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["events"] == 1

        clock.now += own.chatwoot_signature_tolerance_seconds + 1
        replay = client.post("/webhooks/chatwoot", content=body, headers=headers)
        late = client.post("/webhooks/chatwoot", content=late_body, headers=captured)
        metrics = client.get("/metrics").text

    for refused in (replay, late):
        assert refused.status_code == 403
        assert refused.json() == {"detail": f"{STALE}: a replayed or delayed delivery"}
    assert 'outcome="stale_timestamp",provider="chatwoot"} 2.0' in metrics
    assert 'outcome="accepted",provider="chatwoot"} 1.0' in metrics
    assert 'outcome="bad_signature",provider="chatwoot"} 0.0' in metrics

    records = await read_topic(
        own.kafka_bootstrap_servers, INBOUND.full_name(own.switchboard_topic_prefix)
    )
    ids = [decode(value).id for _, value in records if value is not None]
    account = chatwoot_payloads.ACCOUNT_ID
    assert ids == [f"chatwoot:{account}:message:{message_id}"]
    assert f"chatwoot:{account}:message:{late_id}" not in ids


def _deliver(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
    )
    assert response.status_code == 200, response.text
    assert response.json()["events"] == 1


async def _rows(database_url: str, phone_event_ids: list[str]) -> dict[str, int]:
    """How many rows each event id has in `messages`."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT event_id, count(*) AS n FROM messages WHERE event_id = ANY($1)"
            " GROUP BY event_id",
            phone_event_ids,
        )
    finally:
        await conn.close()
    return {row["event_id"]: row["n"] for row in rows}


async def test_the_same_wamid_in_two_signed_deliveries_is_stored_once_and_answered_once(
    client: TestClient, database_url: str, worker: Worker, standin_requests: Requests
) -> None:
    """Meta redelivers a message inside a different body (re-serialised, batched with a
    status): both deliveries are authentic and answered 200, yet the message is stored once
    and the customer gets one reply; a later message in the same conversation shows that
    everything before it was processed."""
    phone = f"1555{uuid.uuid4().int % 10**7:07d}"
    wamid = f"wamid.replay-{uuid.uuid4().hex}"
    original = whatsapp_text_body(wamid=wamid, phone=phone, text="How long does delivery take?")
    redelivery: dict[str, Any] = json.loads(original)
    value = redelivery["entry"][0]["changes"][0]["value"]
    value["statuses"] = [
        {
            "id": f"wamid.sent-{uuid.uuid4().hex}",
            "status": "delivered",
            "timestamp": str(int(time.time())),
            "recipient_id": phone,
        }
    ]
    again = json.dumps(redelivery, indent=1).encode()
    assert again != original
    _deliver(client, original)
    response = client.post(
        "/webhooks/whatsapp", content=again, headers=whatsapp_headers(TEST_SECRET, again)
    )
    assert response.status_code == 200, response.text
    assert response.json()["events"] == 2  # the message again, and the status

    sentinel = f"wamid.sentinel-{uuid.uuid4().hex}"
    _deliver(client, whatsapp_text_body(wamid=sentinel, phone=phone, text="Can I pay by invoice?"))

    def replies() -> list[dict[str, Any]]:
        return [r for r in standin_requests("graph") if (r.get("json") or {}).get("to") == phone]

    async def both_answered() -> bool:
        stored = await _rows(database_url, [f"wa:{wamid}", f"wa:{sentinel}"])
        return len(stored) == 2 and len(replies()) >= 2

    assert await eventually(both_answered, timeout=60), worker.log()
    await asyncio.sleep(2)  # a second reply to the duplicate would have come before the sentinel's
    assert await _rows(database_url, [f"wa:{wamid}", f"wa:{sentinel}"]) == {
        f"wa:{wamid}": 1,
        f"wa:{sentinel}": 1,
    }
    assert len(replies()) == 2, replies()
