"""Conversations in flight on the real broker: a destination that is down holds up only its
own conversations, which are answered in order once it is back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from ingest.testing import whatsapp_headers, whatsapp_text_body
from lag.offsets import LagReader
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens
from tests.integration.chatwoot_chat import customer_says, ids
from tests.integration.conftest import TEST_SECRET, Worker, eventually, isolated, settings_env
from tests.private_stack import free_ports

pytestmark = pytest.mark.integration

PHONE_NUMBER_ID = "100000000000001"  # the business number of whatsapp_text_body
FIRST, SECOND = "How long does delivery take?", "Can I return a lamp?"


@pytest.fixture
async def lanes_settings(settings: Settings) -> Settings:
    return await isolated(settings, "lanes")


@pytest.fixture
def lanes_worker(lanes_settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    (port,) = free_ports(1)
    env = settings_env(lanes_settings, tmp_path) | {
        "SWITCHBOARD_CIRCUIT_FAILURES": "3",
        "SWITCHBOARD_WORKER_WEB_PORT": str(port),
    }
    worker = Worker(env, tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def client(lanes_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(build_ingest(lanes_settings))) as test_client:
        yield test_client


def _control(url: str, action: str, body: object = None) -> None:
    httpx.post(f"{url}/_standin/{action}", json=body).raise_for_status()


@pytest.fixture
def graph_down(standins: StandInURLs) -> Iterator[str]:
    _control(standins.graph, "reset")
    _control(standins.graph, "faults", {"status": 503, "times": 10**6})
    yield standins.graph
    _control(standins.graph, "reset")


def _requests(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/_standin/requests").json()["requests"]
    return found


def _whatsapp_replies(graph: str) -> dict[str, list[str]]:
    replies: dict[str, list[str]] = {}
    for r in _requests(graph):
        if r["method"] == "POST" and r["status"] == 200:
            replies.setdefault(r["json"]["to"], []).append(r["json"]["text"]["body"])
    return replies


def _chatwoot_replied(chatwoot: str, conversations: set[int]) -> set[int]:
    done = set()
    for r in _requests(chatwoot):
        body = r["json"] if isinstance(r["json"], dict) else {}
        if r["method"] != "POST" or body.get("private") or r["status"] != 200:
            continue
        for conversation in conversations:
            if r["path"].endswith(f"/conversations/{conversation}/messages"):
                done.add(conversation)
    return done


async def test_a_destination_down_waits_alone_and_catches_up_in_order(
    client: TestClient,
    lanes_worker: Worker,
    standins: StandInURLs,
    graph_down: str,
) -> None:
    """With the Graph API answering 503, WhatsApp customers (two messages each) wait while
    every Chatwoot customer is answered, and the worker's /health/detailed names the
    business number whose circuit is open; once it is back, each WhatsApp customer gets both
    answers, in the order they asked, and the worker is healthy again."""
    phones = [f"1555{uuid.uuid4().int % 10**7:07d}" for _ in range(6)]
    for text in (FIRST, SECOND):
        for phone in phones:
            body = whatsapp_text_body(wamid=f"wamid.{uuid.uuid4().hex}", phone=phone, text=text)
            answer = client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
            )
            assert answer.status_code == 200
    conversations = {next(ids) for _ in range(6)}
    for conversation in conversations:
        customer_says(client, conversation, FIRST, next(ids))

    async def chatwoot_answered() -> bool:
        return _chatwoot_replied(standins.chatwoot, conversations) == conversations

    assert await eventually(chatwoot_answered, timeout=30), lanes_worker.log()[-4000:]
    assert _whatsapp_replies(graph_down) == {}
    health = _health(lanes_worker)
    assert health["status"] == "degraded", health
    waiting = health["components"]["destinations"]["not_closed"]
    assert [(d["kind"], d["id"]) for d in waiting] == [("whatsapp", PHONE_NUMBER_ID)]

    _control(graph_down, "reset")

    async def whatsapp_answered() -> dict[str, list[str]] | None:
        replies = _whatsapp_replies(graph_down)
        return replies if all(len(replies.get(p, [])) >= 2 for p in phones) else None

    replies = await eventually(whatsapp_answered, timeout=90)
    assert replies, lanes_worker.log()[-4000:]
    for phone in phones:
        first, second = replies[phone][:2]
        assert "working days" in first, (phone, replies[phone])
        assert "return" in second.lower(), (phone, replies[phone])

    async def healthy() -> bool:
        return bool(_health(lanes_worker)["status"] == "healthy")

    assert await eventually(healthy, timeout=10), _health(lanes_worker)


async def test_partitions_revoked_with_work_in_flight_are_answered_once(
    lanes_settings: Settings, client: TestClient, standins: StandInURLs, tmp_path: Path
) -> None:
    """The model holds every call; while the first worker has a dozen conversations in
    flight, a second joins and takes half the partitions, and only then is the model
    released. What the first was running there is abandoned and run again by the second:
    every customer gets exactly one reply."""
    _control(standins.model, "reset")
    _control(standins.chatwoot, "reset")
    env = settings_env(lanes_settings, tmp_path) | {
        "SWITCHBOARD_LLM_MODEL": "openai:test-model",
        "SWITCHBOARD_LLM_BASE_URL": standins.model_base_url,
        "SWITCHBOARD_LLM_API_KEY": Tokens().model,
        "SWITCHBOARD_FLOW_TIMEOUT_SECONDS": "600",
    }
    first = Worker(env, tmp_path / "first.log")
    second = Worker(env, tmp_path / "second.log")  # its metrics port is taken: it says so
    first.start()
    try:
        warm = next(ids)
        customer_says(client, warm, FIRST, next(ids))

        async def warmed() -> bool:
            return _chatwoot_replied(standins.chatwoot, {warm}) == {warm}

        assert await eventually(warmed, timeout=90), first.log()[-4000:]
        # Held until the reset below, however long the second worker takes to join.
        _control(standins.model, "faults", {"delay_seconds": 600, "times": 10**6})
        conversations = {next(ids) for _ in range(12)}
        for conversation in conversations:
            customer_says(client, conversation, FIRST, next(ids))

        async def all_held() -> bool:
            return _model_calls_held(standins.model) >= len(conversations)

        assert await eventually(all_held, timeout=90), first.log()[-4000:]
        second.start()

        async def both_hold_partitions() -> bool:
            return await _members_with_partitions(lanes_settings) == 2

        assert await eventually(both_hold_partitions, timeout=180), second.log()[-4000:]
        _control(standins.model, "reset")  # the held calls are answered now

        async def all_answered() -> bool:
            return _chatwoot_replied(standins.chatwoot, conversations) == conversations

        assert await eventually(all_answered, timeout=120), second.log()[-4000:]
        await asyncio.sleep(10.0)  # a reply sent twice would have arrived by now
        counts = _reply_counts(standins.chatwoot, conversations)
        assert counts == dict.fromkeys(conversations, 1), counts
        # The partitions moved: the second worker answered some of them.
        assert "conversation_turn" in second.log(), second.log()[-4000:]
    finally:
        second.stop()
        first.stop()
        _control(standins.model, "reset")


def _model_calls_held(model: str) -> int:
    """Calls the model stand-in has received and not answered yet."""
    requests = httpx.get(f"{model}/_standin/requests").json()["requests"]
    return sum(1 for r in requests if r["status"] is None)


async def _members_with_partitions(settings: Settings) -> int:
    """Members of the worker's group that have partitions assigned."""
    reader = LagReader(settings.kafka_bootstrap_servers)
    await reader.start()
    try:
        snapshot = await reader.snapshot([settings.switchboard_worker_group])
    finally:
        await reader.close()
    (group,) = snapshot.groups
    return sum(1 for member in group.members if member.assignment)


def _reply_counts(chatwoot: str, conversations: set[int]) -> dict[int, int]:
    counts = dict.fromkeys(conversations, 0)
    for r in _requests(chatwoot):
        body = r["json"] if isinstance(r["json"], dict) else {}
        if r["method"] != "POST" or body.get("private") or r["status"] != 200:
            continue
        for conversation in conversations:
            if r["path"].endswith(f"/conversations/{conversation}/messages"):
                counts[conversation] += 1
    return counts


async def test_a_full_window_holds_a_partition_back_and_lets_it_go(
    lanes_settings: Settings, client: TestClient, standins: StandInURLs, tmp_path: Path
) -> None:
    """A window of two records a partition and a model taking 2 s: while 36 customers wait,
    the worker never holds more than the windows allow (the rest stays in Kafka), and every
    customer is answered once the windows drain."""
    (port,) = free_ports(1)
    _control(standins.model, "reset")
    _control(standins.model, "faults", {"delay_seconds": 2, "times": 10**6})
    _control(standins.chatwoot, "reset")
    env = settings_env(lanes_settings, tmp_path) | {
        "SWITCHBOARD_PARTITION_WINDOW": "2",
        "SWITCHBOARD_WORKER_WEB_PORT": str(port),
        "SWITCHBOARD_LLM_MODEL": "openai:test-model",
        "SWITCHBOARD_LLM_BASE_URL": standins.model_base_url,
        "SWITCHBOARD_LLM_API_KEY": Tokens().model,
        "SWITCHBOARD_FLOW_TIMEOUT_SECONDS": "30",
    }
    worker = Worker(env, tmp_path / "window.log")
    worker.start()
    try:
        conversations = {next(ids) for _ in range(36)}
        for conversation in conversations:
            customer_says(client, conversation, FIRST, next(ids))
        most = 0

        async def all_answered() -> bool:
            nonlocal most
            most = max(most, _held(port, "converse"))
            return _chatwoot_replied(standins.chatwoot, conversations) == conversations

        assert await eventually(all_answered, timeout=120, interval=0.1), worker.log()[-4000:]
        # Six partitions, two records each; a record waiting for room is counted as it asks.
        assert 0 < most <= 6 * 3, most
        assert _reply_counts(standins.chatwoot, conversations) == dict.fromkeys(conversations, 1)
    finally:
        worker.stop()
        _control(standins.model, "reset")


def _held(port: int, agent: str) -> int:
    """The worker's gauge of records held by ``agent`` (0 until it serves its metrics)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0
    for line in text.splitlines():
        if line.startswith(f'switchboard_worker_records_held{{agent="{agent}"}}'):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def _health(worker: Worker) -> dict[str, Any]:
    port = worker.env["SWITCHBOARD_WORKER_WEB_PORT"]
    answer: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/health/detailed", timeout=2).json()
    return answer
