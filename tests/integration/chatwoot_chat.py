"""A customer's Chatwoot conversation through ingest: signed messages in, and what the
Chatwoot stand-in accepted for the conversation out."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from ingest.testing import chatwoot_headers
from tests.fakes import chatwoot_payloads
from tests.integration.conftest import TEST_CHATWOOT_SECRET, eventually

Requests = Callable[[str], list[dict[str, Any]]]
# Message, conversation and contact ids for the tests that send through here, from a
# random start: they must not meet other runs' ids in a shared delivery log or stand-in.
ids = itertools.count(uuid.uuid4().int % 1_000_000_000)
ACCOUNT = chatwoot_payloads.ACCOUNT_ID


def post(client: TestClient, body: dict[str, Any]) -> None:
    """Chatwoot's webhook, signed, to ingest; it must be accepted."""
    raw = json.dumps(body).encode()
    response = client.post(
        "/webhooks/chatwoot", content=raw, headers=chatwoot_headers(TEST_CHATWOOT_SECRET, raw)
    )
    assert response.status_code == 200, response.text


def customer_says(
    client: TestClient,
    conversation: int,
    text: str,
    chatwoot_contact: int | None = None,
    *,
    name: str = chatwoot_payloads.CONTACT_NAME,
    phone: str = chatwoot_payloads.CONTACT_PHONE,
) -> int:
    """A signed message_created in the conversation, from the sample contact or from the
    given Chatwoot contact; its message id."""
    body = chatwoot_payloads.incoming_message()
    message_id = next(ids)
    body["id"] = message_id
    body["content"] = text
    body["conversation"]["id"] = conversation
    if chatwoot_contact is not None:
        for sender in (body["sender"], body["conversation"]["meta"]["sender"]):
            sender.update({"id": chatwoot_contact, "name": name, "phone_number": phone})
    post(client, body)
    return message_id


def accepted(conversation: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What was accepted for the conversation: its POSTs answered 200. The sender's GETs (it
    lists messages to settle a step a crash left in doubt) are not deliveries."""
    prefix = f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/"
    return [
        r
        for r in requests
        if r["method"] == "POST" and r["path"].startswith(prefix) and r["status"] == 200
    ]


def replies(requests: list[dict[str, Any]], conversation: int) -> list[str]:
    """The texts of the public messages accepted for the conversation."""
    return [
        r["json"]["content"]
        for r in accepted(conversation, requests)
        if r["path"].endswith("/messages") and not r["json"].get("private")
    ]


async def wait_for(
    fetch: Requests,
    conversation: int,
    count: int,
    timeout: float = 30,  # noqa: ASYNC109 - a polling deadline
) -> list[dict[str, Any]]:
    """What was accepted for the conversation, once there are ``count`` of them or the
    time is up."""

    async def probe() -> list[dict[str, Any]] | None:
        received = accepted(conversation, fetch("chatwoot"))
        return received if len(received) >= count else None

    found: list[dict[str, Any]] | None = await eventually(probe, timeout=timeout)
    return found or accepted(conversation, fetch("chatwoot"))
