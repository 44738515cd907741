"""The ceilings: a plain aiokafka loop in this process over the worker's inbound records,
with consumer groups of its own: consume, decode, build the same reply action with a fixed
outcome, encode, produce (acks=all), commit. `batch acks` awaits a fetched batch's acks
together; `ack each` awaits each before the next record, as the worker does."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.flow.rig import Rig
from bench.flow.throughput import Throughput
from bench.harness.worker import DRAIN_SECONDS
from schemas.catalogue import ACTIONS, INBOUND
from schemas.events import MessageReceived, decode, encode, kafka_headers
from streams.conversation.actions import actions_for

# The ceiling writes here, not to actions.v1, which the worker would deliver.
CEILING_TOPIC = replace(ACTIONS, name="ceiling-actions.v1")
CEILING_RUNS = 3
CEILING = "ceiling, batch acks"
ACK_EACH = "ceiling, ack each"


async def fetch(consumer: AIOKafkaConsumer) -> list[Any]:
    batches = await consumer.getmany(timeout_ms=1000, max_records=500)
    return list(itertools.chain.from_iterable(batches.values()))


async def respond(rig: Rig, producer: AIOKafkaProducer, value: bytes) -> list[Awaitable[Any]]:
    """Decode, the same actions the worker would write for a fixed outcome, encode, send."""
    message = decode(value)
    if not isinstance(message, MessageReceived):
        return []
    topic = rig.names.topic(CEILING_TOPIC)
    return [
        await producer.send(
            topic, key=a.subject.encode(), value=encode(a), headers=kafka_headers(a)
        )
        for a in actions_for(message, rig.outcome, datetime.now(UTC))
    ]


async def ceiling_loop(
    rig: Rig, kafka: tuple[AIOKafkaConsumer, AIOKafkaProducer], records: list[Any], each: bool
) -> tuple[int, float]:
    """From the first fetch on: respond to every record, wait for the acks, commit."""
    consumer, producer = kafka
    started, done, total = time.perf_counter(), 0, rig.plan.messages + 1  # + the warm-up
    while True:
        pending: list[Awaitable[Any]] = []
        for record in records:
            sent = await respond(rig, producer, record.value)
            if each:
                await asyncio.gather(*sent)
            else:
                pending.extend(sent)
        await asyncio.gather(*pending)
        await consumer.commit()
        done += len(records)
        if done >= total:
            return done, time.perf_counter() - started
        records = await fetch(consumer)


async def ceiling(rig: Rig, target: str, *, each: bool) -> Throughput:
    """The median of a few runs, each with a group of its own: they last under a second."""
    runs = [await ceiling_once(rig, target, each, attempt) for attempt in range(CEILING_RUNS)]
    runs.sort(key=lambda run: run.rate)
    median = runs[len(runs) // 2]
    rates = ", ".join(f"{run.rate:,.0f}" for run in runs)
    median.notes.append(f"median of {len(runs)} runs over the same records: {rates} msg/s")
    return median


async def ceiling_once(rig: Rig, target: str, each: bool, attempt: int) -> Throughput:
    bootstrap = rig.settings.kafka_bootstrap_servers
    consumer = AIOKafkaConsumer(
        rig.names.topic(INBOUND),
        bootstrap_servers=bootstrap,
        group_id=rig.names.ceiling_group(f"{'each' if each else 'batch'}-{attempt}"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await consumer.start()
    await producer.start()
    try:
        await producer.partitions_for(rig.names.topic(CEILING_TOPIC))  # metadata, untimed
        async with asyncio.timeout(DRAIN_SECONDS):
            first: list[Any] = []
            while not first:  # joining the group is not timed
                first = await fetch(consumer)
            loop = ceiling_loop(rig, (consumer, producer), first, each)
            (done, seconds), cpu = await rig.meter.around(loop)
    finally:
        await producer.stop()
        await consumer.stop()
    return Throughput(target, done, seconds, cpu)
