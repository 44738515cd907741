"""Sign requests the way each provider does: for tests, benchmarks and the demo."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

from ingest.errors import LogUnavailable
from ingest.producer import to_records
from schemas.events import Event


def whatsapp_headers(app_secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def chatwoot_headers(
    secret: str, body: bytes, timestamp: int | None = None, delivery: str | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Chatwoot-Signature": f"sha256={digest}",
        "X-Chatwoot-Timestamp": ts,
    }
    if delivery:
        headers["X-Chatwoot-Delivery"] = delivery
    return headers


def dialog360_headers(header: str, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", header: secret}


def whatsapp_text_body(
    *,
    wamid: str,
    phone: str,
    text: str,
    name: str = "Customer",
    phone_number_id: str = "100000000000001",
    timestamp: int | None = None,
) -> bytes:
    """A Cloud API ``messages`` webhook with one text message, as Meta sends it."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": phone}],
        "messages": [
            {
                "from": phone,
                "id": wamid,
                "timestamp": str(int(time.time()) if timestamp is None else timestamp),
                "text": {"body": text},
                "type": "text",
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000002", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


class InMemoryEventLog:
    """An `EventLog` for unit tests: keeps what was appended, or refuses like a dead broker."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.available = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def connected(self) -> bool:
        return self.available

    async def append(self, events: Sequence[Event]) -> None:
        to_records(events, "")  # refuse what the real log would refuse
        if not self.available:
            raise LogUnavailable("the event log is unavailable", headers={"Retry-After": "5"})
        self.events.extend(events)
