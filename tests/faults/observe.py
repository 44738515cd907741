"""What came out of a run, read from where each outcome lives: the stored messages in
PostgreSQL, the actions on Kafka, the messages in the Chatwoot stand-in, and the worker's lag."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from schemas.catalogue import ACTIONS, INBOUND
from schemas.events import HandoffRequested, ReplyRequested, decode
from sinks.outbound.requests import MARKER_ATTRIBUTE
from switchboard.settings import Settings
from tests.faults.ledger import Action, Delivered, Observed

PAGE = 100  # the stand-in lists at most 100 messages after an id, as Chatwoot does


async def stored_messages(database_url: str) -> dict[int, int]:
    """Inbound rows per Chatwoot message id (the run's database holds nothing else)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT provider_message_id, count(*) AS n FROM messages "
            "WHERE direction = 'inbound' GROUP BY provider_message_id"
        )
    finally:
        await connection.close()
    return {int(row["provider_message_id"]): row["n"] for row in rows}


def message_id(event_id: str) -> int:
    """``chatwoot:{account}:message:{id}`` → id."""
    return int(event_id.rsplit(":", 1)[1])


async def actions(settings: Settings) -> list[Action]:
    """Every distinct reply and hand-off on the actions topic, from its first offset."""
    topic = ACTIONS.full_name(settings.switchboard_topic_prefix)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(ACTIONS.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        found: dict[str, Action] = {}
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    event = decode(record.value)
                    if isinstance(event, ReplyRequested | HandoffRequested):
                        answered = message_id(event.data.in_reply_to)
                        reason = getattr(event.data, "reason", None)
                        found[event.id] = Action(event.id, event.type, answered, reason)
        return list(found.values())
    finally:
        await consumer.stop()


async def delivered(
    chatwoot: str, token: str, account: int, conversations: Sequence[int]
) -> list[Delivered]:
    """The bot's messages in the Chatwoot stand-in, in the order they were created."""
    found: list[tuple[int, Delivered]] = []
    async with httpx.AsyncClient(timeout=10) as client:
        for conversation in conversations:
            url = f"{chatwoot}/api/v1/accounts/{account}/conversations/{conversation}/messages"
            after = 0
            while True:
                response = await client.get(
                    url, params={"after": after}, headers={"api_access_token": token}
                )
                response.raise_for_status()
                page = response.json()["payload"]
                for message in page:
                    marker = (message.get("content_attributes") or {}).get(MARKER_ATTRIBUTE)
                    if isinstance(marker, str):
                        action_id, step = marker.rsplit(":", 1)
                        found.append((message["id"], Delivered(conversation, action_id, step)))
                if len(page) < PAGE:
                    break
                after = page[-1]["id"]
    return [d for _, d in sorted(found, key=lambda pair: pair[0])]


async def observe(
    settings: Settings, chatwoot: str, token: str, account: int, conversations: Sequence[int]
) -> Observed:
    return Observed(
        stored=await stored_messages(settings.database_url.get_secret_value()),
        actions=await actions(settings),
        delivered=await delivered(chatwoot, token, account, conversations),
    )


async def offsets(settings: Settings) -> dict[TopicPartition, tuple[int, int]] | None:
    """(committed, written) for each partition of the worker's two input topics; None when
    the broker cannot tell right now (a coordinator moving after a restart)."""
    names = [t.full_name(settings.switchboard_topic_prefix) for t in (INBOUND, ACTIONS)]
    partitions = [
        TopicPartition(name, p)
        for name, t in zip(names, (INBOUND, ACTIONS), strict=True)
        for p in range(t.partitions)
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        await admin.start()
        await consumer.start()
        committed = await admin.list_consumer_group_offsets(settings.switchboard_worker_group)
        ends = await consumer.end_offsets(partitions)
    except KafkaError:
        return None
    finally:
        await consumer.stop()
        await admin.close()
    done = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
    return {tp: (min(done.get(tp, 0), end), end) for tp, end in ends.items()}


async def lag(settings: Settings) -> int | None:
    """Records on the worker's input topics its group has not committed yet."""
    found = await offsets(settings)
    return None if found is None else sum(end - done for done, end in found.values())


def lagging(found: dict[TopicPartition, tuple[int, int]] | None) -> str:
    """The partitions behind, as ``topic[partition] committed/written``."""
    if found is None:
        return "the broker could not tell"
    behind = sorted((tp.topic, tp.partition, d, e) for tp, (d, e) in found.items() if d < e)
    return ", ".join(f"{t}[{p}] {d}/{e}" for t, p, d, e in behind)


async def answered(settings: Settings) -> int | None:
    """Actions written so far (every reply and hand-off the converse agent decided)."""
    topic = ACTIONS.full_name(settings.switchboard_topic_prefix)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        await consumer.start()
        ends = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in range(ACTIONS.partitions)]
        )
    except KafkaError:
        return None
    finally:
        await consumer.stop()
    return int(sum(ends.values()))


async def until_resumed(settings: Settings, after: int, timeout: float) -> float:  # noqa: ASYNC109
    """Seconds until the worker answers messages again: more actions than ``after`` (the
    count at the fault). Commits alone would not do: the store agent commits too."""
    started = time.monotonic()
    while True:
        found = await answered(settings)
        if found is not None and found > after:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"the worker did not resume within {timeout} s")
        await asyncio.sleep(0.25)


async def until_caught_up(settings: Settings, timeout: float) -> float:  # noqa: ASYNC109
    """Seconds until the worker's group has committed everything on its input topics;
    raises if it has not by the end."""
    started = time.monotonic()
    while True:
        remaining = await lag(settings)
        if remaining == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            behind = lagging(await offsets(settings))
            raise AssertionError(
                f"the worker still lags {remaining} records after {timeout} s: {behind}"
            )
        await asyncio.sleep(0.5)
