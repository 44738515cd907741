"""A short demo conversation, played through the real pipeline.

It signs webhooks the way Meta and Chatwoot do, posts them to ingest, and then reads back
what the worker stored in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import asyncpg
import httpx

from ingest.testing import chatwoot_headers, whatsapp_headers, whatsapp_text_body
from switchboard.settings import Settings

CUSTOMER_LINES = (
    "Hi! I ordered a lamp last week, order 1042.",
    "Can you tell me when it will arrive?",
    "Thanks, and can I still change the delivery address?",
)


def chatwoot_message_body(content: str, message_id: int, conversation_id: int = 7) -> bytes:
    """An agent-bot ``message_created`` webhook for an incoming customer message."""
    body = {
        "event": "message_created",
        "id": message_id,
        "content": content,
        "content_type": "text",
        "message_type": "incoming",
        "private": False,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "sender": {"id": 31, "name": "Grace", "phone_number": "+15550001111", "type": "contact"},
        "account": {"id": 1, "name": "Demo Shop"},
        "inbox": {"id": 2, "name": "Website"},
        "conversation": {"id": conversation_id, "inbox_id": 2, "status": "pending"},
    }
    return json.dumps(body).encode()


async def _post(client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str]) -> str:
    response = await client.post(path, content=body, headers=headers)
    return f"{response.status_code} {response.json()}"


async def run_demo(settings: Settings, url: str, wait_seconds: float = 30.0) -> int:
    run = uuid.uuid4().hex[:8]
    whatsapp_secret = settings.whatsapp_app_secret[0].get_secret_value()
    chatwoot_secret = settings.chatwoot_webhook_secret[0].get_secret_value()
    event_ids = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for number, line in enumerate(CUSTOMER_LINES):
            wamid = f"wamid.demo-{run}-{number}"
            body = whatsapp_text_body(wamid=wamid, phone="15550002222", text=line, name="Ada")
            headers = whatsapp_headers(whatsapp_secret, body)
            outcome = await _post(client, "/webhooks/whatsapp", body, headers)
            print(f"WhatsApp  → {line!r}: {outcome}")
            event_ids.append(f"wa:{wamid}")
        message_id = int(time.time() * 1000) % 2_000_000_000
        body = chatwoot_message_body("Hello from the website chat!", message_id)
        headers = chatwoot_headers(chatwoot_secret, body)
        outcome = await _post(client, "/webhooks/chatwoot", body, headers)
        print(f"Chatwoot  → 'Hello from the website chat!': {outcome}")
        event_ids.append(f"chatwoot:1:message:{message_id}")
    return await _show_stored(settings, event_ids, wait_seconds)


async def _show_stored(settings: Settings, event_ids: list[str], wait_seconds: float) -> int:
    connection = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        deadline = time.monotonic() + wait_seconds
        rows: list[asyncpg.Record] = []
        while time.monotonic() < deadline:
            rows = await connection.fetch(
                "SELECT event_id, conversation_key, message_type, personal->>'text' AS text,"
                " stored_at - sent_at AS lag FROM messages WHERE event_id = ANY($1)"
                " ORDER BY sent_at, event_id",
                event_ids,
            )
            if len(rows) == len(event_ids):
                break
            await asyncio.sleep(0.25)
    finally:
        await connection.close()
    print(f"\nStored in PostgreSQL ({len(rows)}/{len(event_ids)} messages):")
    for row in rows:
        print(f"  {row['conversation_key'][:14]}…  {row['message_type']:<5} {row['text']!r}")
    return 0 if len(rows) == len(event_ids) else 1
