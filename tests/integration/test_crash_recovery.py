"""A worker killed with SIGKILL in the middle of a burst loses nothing and repeats nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from sinks.postgres.knowledge import PostgresRetriever
from sinks.postgres.pool import Database, PoolConfig
from streams.flow.graph import FlowInput
from streams.flow.runner import Flow
from switchboard.settings import Settings
from tests.integration.chatwoot_chat import Requests, customer_says, replies
from tests.integration.conftest import Worker, eventually, isolated, settings_env
from tests.integration.privacy_helpers import conversation_key
from tests.integration.worker_log import about
from tests.sample_questions import QUESTIONS

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CONVERSATIONS = 20


@pytest.fixture
async def crash_setup(settings: Settings, tmp_path: Path) -> tuple[Settings, Worker]:
    """Own topics and consumer group, so only this test's worker owns the partitions."""
    own = await isolated(settings, "crash")
    return own, Worker(settings_env(own, tmp_path), tmp_path / "worker.log")


@pytest.fixture
def crash_client(crash_setup: tuple[Settings, Worker]) -> Iterator[TestClient]:
    own, worker = crash_setup
    with TestClient(create_app(build_ingest(own))) as client:
        yield client
    worker.stop()


async def _expected_replies(database_url: str) -> dict[str, str]:
    """What the offline flow answers to each question, computed the same way the worker does."""
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        flow = Flow(PostgresRetriever(database), None, 60, 0, 0.05)
        outcomes = {
            q: await flow.run(FlowInput(event_id="expected", text=q, channel="chatwoot"))
            for q in QUESTIONS
        }
    finally:
        await database.close()
    assert all(o.kind == "reply" for o in outcomes.values())
    texts = {q: o.text for q, o in outcomes.items()}
    assert len(set(texts.values())) == len(QUESTIONS), "each question needs its own answer"
    return texts


async def test_sigkill_mid_burst_gives_every_message_exactly_one_reply_in_order(
    crash_setup: tuple[Settings, Worker],
    crash_client: TestClient,
    database_url: str,
    standin_requests: Requests,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """200 messages over 20 conversations, worker SIGKILLed mid-burst and restarted: each
    message gets one reply, in order within its conversation, none twice."""
    own, worker = crash_setup
    expected = await _expected_replies(database_url)
    base = uuid.uuid4().int % 1_000_000_000
    conversations = [base + n for n in range(CONVERSATIONS)]
    asked: dict[int, list[str]] = {c: [] for c in conversations}
    worker.start()

    for turn in range(len(QUESTIONS)):
        for index, conversation in enumerate(conversations):
            question = QUESTIONS[(index + turn) % len(QUESTIONS)]
            customer_says(crash_client, conversation, question)
            asked[conversation].append(question)

    def answered() -> int:
        received = standin_requests("chatwoot")
        return sum(len(replies(received, c)) for c in conversations)

    async def some_answered() -> bool:
        return answered() >= 40

    assert await eventually(some_answered, timeout=90), (
        answered(),
        len(standin_requests("chatwoot")),
        [r["path"] for r in standin_requests("chatwoot")][-3:],
    )
    assert worker.process is not None
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    killed_at = answered()
    worker.start()

    async def all_answered() -> bool:
        return answered() >= CONVERSATIONS * len(QUESTIONS)

    assert await eventually(all_answered, timeout=120, interval=0.5), worker.log()
    await asyncio.sleep(3)  # let any duplicate that was going to arrive, arrive
    received = standin_requests("chatwoot")
    assert killed_at < CONVERSATIONS * len(QUESTIONS), "the kill came after the burst"
    names = {text: q for q, text in expected.items()}
    wrong = {
        conversation: got
        for conversation in conversations
        if (got := [names.get(text, text[:40]) for text in replies(received, conversation)])
        != asked[conversation]
    }
    if wrong:
        capfd.readouterr()  # ingest's line per webhook would bury the diagnosis in the report
    assert not wrong, diagnosis(own, worker, wrong, asked, killed_at)


def diagnosis(
    settings: Settings,
    worker: Worker,
    wrong: dict[int, list[str]],
    asked: dict[int, list[str]],
    killed_at: int,
) -> str:
    """Which questions were answered in which order, and the worker's log lines about the
    first conversation answered wrong (its turns and deliveries with their offsets)."""
    conversation, got = next(iter(wrong.items()))
    key = conversation_key(settings, conversation)
    wanted = [QUESTIONS.index(q) for q in asked[conversation]]
    order = [QUESTIONS.index(q) if q in QUESTIONS else q for q in got]
    return "\n".join(
        [
            f"killed after {killed_at} replies; {len(wrong)} conversations wrong",
            f"conversation {conversation} ({key}) asked {wanted}",
            f"answered {order}",
            *about(worker.log(), key),
        ]
    )
