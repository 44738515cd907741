"""A short demo conversation, played through the real pipeline.

It signs webhooks the way Meta and Chatwoot do, posts them to ingest, and shows what the
bot sent back, as the Graph API and Chatwoot stand-ins received it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from ingest.testing import chatwoot_headers, whatsapp_headers, whatsapp_text_body
from switchboard.settings import Settings
from switchboard.standins import StandInURLs

WHATSAPP_LINES = (
    "Hi!",
    "How long does delivery take?",
    "Can I return a lamp I don't like?",
    "I'd like to talk to a person, please.",
)
CHATWOOT_LINES = ("Which payment methods do you accept?", "STOP")


@dataclass(frozen=True)
class Line:
    channel: str
    text: str
    body: bytes
    headers: dict[str, str]
    path: str
    # Where the bot's answer to this line shows up: stand-in name and request path.
    answer_at: tuple[str, str]


def chatwoot_message_body(content: str, message_id: int, conversation_id: int) -> bytes:
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


def script(settings: Settings) -> list[Line]:
    run = uuid.uuid4().hex[:8]
    # A new customer each run: an earlier run's hand-off keeps its conversation with a human.
    phone = f"1555{uuid.uuid4().int % 10**7:07d}"
    whatsapp_secret = settings.whatsapp_app_secret[0].get_secret_value()
    chatwoot_secret = settings.chatwoot_webhook_secret[0].get_secret_value()
    phone_number_id = "100000000000001"
    lines = []
    for n, text in enumerate(WHATSAPP_LINES):
        body = whatsapp_text_body(wamid=f"wamid.demo-{run}-{n}", phone=phone, text=text, name="Ada")
        lines.append(
            Line(
                "WhatsApp",
                text,
                body,
                whatsapp_headers(whatsapp_secret, body),
                "/webhooks/whatsapp",
                ("graph", f"/{phone_number_id}/messages"),
            )
        )
    conversation = int(time.time()) % 1_000_000
    for n, text in enumerate(CHATWOOT_LINES):
        body = chatwoot_message_body(text, conversation * 10 + n, conversation)
        lines.append(
            Line(
                "Chatwoot",
                text,
                body,
                chatwoot_headers(chatwoot_secret, body),
                "/webhooks/chatwoot",
                ("chatwoot", f"/api/v1/accounts/1/conversations/{conversation}/"),
            )
        )
    return lines


def _answer_text(request: dict[str, Any]) -> str | None:
    payload = request.get("json") or {}
    if "content" in payload:
        prefix = "(private note) " if payload.get("private") else ""
        return f"{prefix}{payload['content']}"
    if "text" in payload:
        return str(payload["text"]["body"])
    if payload.get("status"):
        return f"(conversation set to {payload['status']})"
    return None


async def _posts(http: httpx.AsyncClient, standins: StandInURLs, line: Line) -> list[Any]:
    which, path = line.answer_at
    response = await http.get(f"{getattr(standins, which)}/_standin/requests")
    return [
        r
        for r in response.json()["requests"]
        if r["method"] == "POST" and path in r["path"] and r["status"] == 200
    ]


async def _answers(
    http: httpx.AsyncClient, standins: StandInURLs, line: Line, seen: int, wait: float
) -> tuple[list[str], int]:
    """New requests at the stand-in for this line's conversation, after ``seen`` of them."""
    deadline = time.monotonic() + wait
    # Polling a remote server: there is no local event to wait on.
    while time.monotonic() < deadline and len(await _posts(http, standins, line)) <= seen:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # a hand-off is several requests; let them all land
    found = (await _posts(http, standins, line))[seen:]
    return [text for r in found if (text := _answer_text(r))], seen + len(found)


async def run_demo(
    settings: Settings, url: str, standins: StandInURLs, wait_seconds: float = 20.0
) -> int:
    """Play the script; return 0 when every customer line got an answer."""
    unanswered = 0
    seen: dict[tuple[str, str], int] = {}
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as ingest,
        httpx.AsyncClient(timeout=10) as http,
    ):
        for line in script(settings):
            response = await ingest.post(line.path, content=line.body, headers=line.headers)
            print(f"\n{line.channel} customer: {line.text}   [{response.status_code}]")
            answers, seen[line.answer_at] = await _answers(
                http, standins, line, seen.get(line.answer_at, 0), wait_seconds
            )
            for answer in answers:
                print(f"  bot: {answer}")
            if not answers:
                unanswered += 1
                print("  (no answer)")
    return 1 if unanswered else 0
