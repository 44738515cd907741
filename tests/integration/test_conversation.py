"""A customer writes; within seconds the bot answers or a human takes over. Real processes:
ingest in-process, the worker as a subprocess, Kafka, PostgreSQL and the Chatwoot stand-in."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from switchboard.standins import StandInURLs
from tests.fakes import chatwoot_payloads
from tests.integration.chatwoot_chat import (
    ACCOUNT,
    Requests,
    accepted,
    customer_says,
    ids,
    post,
    replies,
    wait_for,
)
from tests.integration.conftest import Worker

pytestmark = pytest.mark.integration


def echo(client: TestClient, conversation: int, body: dict[str, Any]) -> None:
    body["id"] = next(ids)
    body["conversation"]["id"] = conversation
    post(client, body)


def status_changes(client: TestClient, conversation: int, previous: str, current: str) -> None:
    body = chatwoot_payloads.conversation_status_changed(previous, current)
    body["id"] = conversation
    body["updated_at"] = time.time()
    post(client, body)


async def test_a_question_gets_exactly_one_grounded_reply(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """A signed message_created leads to one reply on the right account and conversation."""
    conversation = next(ids)
    customer_says(client, conversation, "How long does delivery take?")
    received = await wait_for(standin_requests, conversation, 1)
    assert len(received) == 1, worker.log()
    (request,) = received
    assert request["path"] == f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/messages"
    assert request["json"]["message_type"] == "outgoing"
    assert request["json"]["private"] is False
    assert "deliver" in request["json"]["content"].lower()
    # Nothing more arrives for it later.
    await asyncio.sleep(1.5)
    assert len(accepted(conversation, standin_requests("chatwoot"))) == 1


async def test_asking_for_a_human_opens_the_conversation_and_silences_the_bot(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """A hand-off request toggles the status to open, with a private note; then the bot is quiet."""
    conversation = next(ids)
    customer_says(client, conversation, "I want to talk to a human")
    received = await wait_for(standin_requests, conversation, 3)
    paths = [r["path"].rsplit("/", 1)[-1] for r in received]
    assert paths == ["messages", "messages", "toggle_status"], worker.log()
    notice, note, toggle = received
    assert notice["json"]["private"] is False
    assert note["json"]["private"] is True
    assert toggle["json"] == {"status": "open"}

    customer_says(client, conversation, "Hello? How long does delivery take?")
    sentinel = next(ids)
    customer_says(client, sentinel, "How long does delivery take?")
    await wait_for(standin_requests, sentinel, 1)
    assert len(accepted(conversation, standin_requests("chatwoot"))) == 3


async def test_handing_back_to_the_bot_lets_it_answer_again(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """After an agent sets the conversation back to pending, the bot answers again."""
    conversation = next(ids)
    status_changes(client, conversation, "pending", "open")
    customer_says(client, conversation, "Can I pay by invoice?")
    status_changes(client, conversation, "open", "pending")
    customer_says(client, conversation, "How long does delivery take?")
    received = await wait_for(standin_requests, conversation, 1)
    assert len(replies(received, conversation)) == 1
    assert "deliver" in replies(received, conversation)[0].lower()


async def test_the_bots_own_messages_and_private_notes_do_not_trigger_replies(
    client: TestClient, worker: Worker, standin_requests: Requests
) -> None:
    """Echoed outgoing messages and private notes are not answered (no reply loops)."""
    conversation = next(ids)
    echo(client, conversation, chatwoot_payloads.bot_reply())
    echo(client, conversation, chatwoot_payloads.private_note())
    echo(client, conversation, chatwoot_payloads.template_message())
    customer_says(client, conversation, "How long does delivery take?")
    received = await wait_for(standin_requests, conversation, 1)
    await asyncio.sleep(1.0)
    assert len(accepted(conversation, standin_requests("chatwoot"))) == len(received) == 1


async def test_a_failing_chatwoot_gets_the_reply_once_it_recovers(
    client: TestClient, worker: Worker, standins: StandInURLs, standin_requests: Requests
) -> None:
    """Chatwoot answering 500 three times, then 200, receives the reply exactly once."""
    conversation = next(ids)
    fault = {"status": 500, "times": 3}
    async with httpx.AsyncClient() as http:
        (await http.post(f"{standins.chatwoot}/_standin/faults", json=fault)).raise_for_status()
    customer_says(client, conversation, "How long does delivery take?")
    received = await wait_for(standin_requests, conversation, 1)
    attempts = [
        r
        for r in standin_requests("chatwoot")
        if r["method"] == "POST"
        and r["path"].startswith(f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/")
    ]
    assert [r["status"] for r in attempts] == [500, 500, 500, 200], worker.log()
    assert len(received) == 1
