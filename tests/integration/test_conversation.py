"""A customer writes; within seconds the bot answers or a human takes over. Real processes:
ingest in-process, the worker as a subprocess, Kafka, PostgreSQL and the Chatwoot stand-in."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from ingest.testing import chatwoot_headers
from switchboard.settings import Settings
from switchboard.standins import StandInURLs
from tests.integration.conftest import TEST_CHATWOOT_SECRET, Worker, eventually
from tests.unit import chatwoot_payloads

pytestmark = pytest.mark.integration

Requests = Callable[[str], list[dict[str, Any]]]
# A random start per module: message and conversation ids of different modules must not
# meet in the session's shared delivery log and Chatwoot stand-in.
_ids = itertools.count(uuid.uuid4().int % 1_000_000_000)
ACCOUNT = chatwoot_payloads.ACCOUNT_ID


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(build_ingest(settings))) as test_client:
        yield test_client


def _post(client: TestClient, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    response = client.post(
        "/webhooks/chatwoot", content=raw, headers=chatwoot_headers(TEST_CHATWOOT_SECRET, raw)
    )
    assert response.status_code == 200, response.text


def customer_says(client: TestClient, conversation: int, text: str) -> int:
    body = chatwoot_payloads.incoming_message()
    message_id = next(_ids)
    body["id"] = message_id
    body["content"] = text
    body["conversation"]["id"] = conversation
    _post(client, body)
    return message_id


def echo(client: TestClient, conversation: int, body: dict[str, Any]) -> None:
    body["id"] = next(_ids)
    body["conversation"]["id"] = conversation
    _post(client, body)


def status_changes(client: TestClient, conversation: int, previous: str, current: str) -> None:
    body = chatwoot_payloads.conversation_status_changed(previous, current)
    body["id"] = conversation
    body["updated_at"] = time.time()
    _post(client, body)


def _to(conversation: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What was accepted for the conversation: its POSTs answered 200. The sender's GETs (it
    lists messages to settle a step a crash left in doubt) are not deliveries."""
    prefix = f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/"
    return [
        r
        for r in requests
        if r["method"] == "POST" and r["path"].startswith(prefix) and r["status"] == 200
    ]


def replies(requests: list[dict[str, Any]], conversation: int) -> list[str]:
    return [
        r["json"]["content"]
        for r in _to(conversation, requests)
        if r["path"].endswith("/messages") and not r["json"].get("private")
    ]


async def _wait_for(
    fetch: Requests,
    conversation: int,
    count: int,
    timeout: float = 30,  # noqa: ASYNC109 - a polling deadline
) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        received = _to(conversation, fetch("chatwoot"))
        return received if len(received) >= count else None

    found: list[dict[str, Any]] | None = await eventually(probe, timeout=timeout)
    return found or _to(conversation, fetch("chatwoot"))


async def test_a_question_gets_exactly_one_grounded_reply(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """A signed message_created leads to one reply on the right account and conversation."""
    conversation = next(_ids)
    customer_says(client, conversation, "How long does delivery take?")
    received = await _wait_for(standin_requests, conversation, 1)
    assert len(received) == 1, worker.log()
    (request,) = received
    assert request["path"] == f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/messages"
    assert request["json"]["message_type"] == "outgoing"
    assert request["json"]["private"] is False
    assert "deliver" in request["json"]["content"].lower()
    # Nothing more arrives for it later.
    await asyncio.sleep(1.5)
    assert len(_to(conversation, standin_requests("chatwoot"))) == 1


async def test_asking_for_a_human_opens_the_conversation_and_silences_the_bot(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """A hand-off request toggles the status to open, with a private note; then the bot is quiet."""
    conversation = next(_ids)
    customer_says(client, conversation, "I want to talk to a human")
    received = await _wait_for(standin_requests, conversation, 3)
    paths = [r["path"].rsplit("/", 1)[-1] for r in received]
    assert paths == ["messages", "messages", "toggle_status"], worker.log()
    notice, note, toggle = received
    assert notice["json"]["private"] is False
    assert note["json"]["private"] is True
    assert toggle["json"] == {"status": "open"}

    customer_says(client, conversation, "Hello? How long does delivery take?")
    sentinel = next(_ids)
    customer_says(client, sentinel, "How long does delivery take?")
    await _wait_for(standin_requests, sentinel, 1)
    assert len(_to(conversation, standin_requests("chatwoot"))) == 3


async def test_handing_back_to_the_bot_lets_it_answer_again(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """After an agent sets the conversation back to pending, the bot answers again."""
    conversation = next(_ids)
    status_changes(client, conversation, "pending", "open")
    customer_says(client, conversation, "Can I pay by invoice?")
    status_changes(client, conversation, "open", "pending")
    customer_says(client, conversation, "How long does delivery take?")
    received = await _wait_for(standin_requests, conversation, 1)
    assert len(replies(received, conversation)) == 1
    assert "deliver" in replies(received, conversation)[0].lower()


async def test_the_bots_own_messages_and_private_notes_do_not_trigger_replies(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """Echoed outgoing messages and private notes are not answered (no reply loops)."""
    conversation = next(_ids)
    echo(client, conversation, chatwoot_payloads.bot_reply())
    echo(client, conversation, chatwoot_payloads.private_note())
    echo(client, conversation, chatwoot_payloads.template_message())
    customer_says(client, conversation, "How long does delivery take?")
    received = await _wait_for(standin_requests, conversation, 1)
    await asyncio.sleep(1.0)
    assert len(_to(conversation, standin_requests("chatwoot"))) == len(received) == 1


async def test_a_failing_chatwoot_gets_the_reply_once_it_recovers(
    client: TestClient, worker: Worker, standins: StandInURLs, standin_requests: Requests
) -> None:
    """Chatwoot answering 500 three times, then 200, receives the reply exactly once."""
    conversation = next(_ids)
    fault = {"status": 500, "times": 3}
    async with httpx.AsyncClient() as http:
        (await http.post(f"{standins.chatwoot}/_standin/faults", json=fault)).raise_for_status()
    customer_says(client, conversation, "How long does delivery take?")
    received = await _wait_for(standin_requests, conversation, 1)
    attempts = [
        r
        for r in standin_requests("chatwoot")
        if r["method"] == "POST"
        and r["path"].startswith(f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/")
    ]
    assert [r["status"] for r in attempts] == [500, 500, 500, 200], worker.log()
    assert len(received) == 1
