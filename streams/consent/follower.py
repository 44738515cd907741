"""Feeding a `ConsentView` from the consent table's changelog, in every worker.

A plain consumer with no group: it is assigned every partition of the changelog, starts at
the beginning (the topic is compacted, so that is every contact's latest state, plus recent
tombstones) and commits nothing. Faust creates the changelog topic when the worker starts,
so the follower waits for it to exist.
"""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.consent.view import ConsentView
from switchboard.retrying import RetryLater, backoff, retrying

log = structlog.get_logger(__name__)

POLL_MS = 200


async def _subscribed(bootstrap_servers: str, topic: str) -> AIOKafkaConsumer:
    """A consumer with every partition of ``topic`` assigned (no group: all of them),
    waiting while the topic does not exist yet."""
    policy = retrying(
        backoff("reader"),
        "consent_view",
        transient=lambda exc: isinstance(exc, RetryLater),
        event="consent_changelog_awaited",
        level="debug",
    )
    consumer: AIOKafkaConsumer = await policy(_assigned, bootstrap_servers, topic)
    return consumer


async def _assigned(bootstrap_servers: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()
        raise
    if consumer.assignment():
        return consumer
    await consumer.stop()
    raise RetryLater("no_partitions")


async def follow(view: ConsentView, bootstrap_servers: str, topic: str) -> None:
    """Run until cancelled: every changelog record into ``view``; ``view.ready`` once the
    records present at start-up are all read."""
    consumer = await _subscribed(bootstrap_servers, topic)
    try:
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        targets = await consumer.end_offsets(partitions)
        log.info("consent_view_following", topic=topic, partitions=len(partitions))
        while True:
            batches = await consumer.getmany(timeout_ms=POLL_MS)
            for records in batches.values():
                for record in records:
                    view.apply_record(record.key, record.value)
            if not view.ready.is_set() and await _caught_up(consumer, targets):
                view.ready.set()
                log.info("consent_view_ready", contacts=len(view))
    finally:
        await consumer.stop()


async def follow_forever(view: ConsentView, bootstrap_servers: str, topic: str) -> None:
    """`follow`, started again after any failure (the view stays as it was meanwhile)."""
    # Only cancellation ends it: `follow` never returns, and every failure is retried.
    policy = retrying(backoff("reader"), "consent_view", event="consent_view_failed", level="error")
    await policy(follow, view, bootstrap_servers, topic)


async def _caught_up(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
    for partition, end in targets.items():
        if await consumer.position(partition) < end:
            return False
    return True
