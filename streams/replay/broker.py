"""The broker side of a replay: log bounds, a group's members, committing a group's offsets
without joining it, reading erasures, and copying a range back into its topic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from lag.offsets import LagReader
from streams.replay.plan import LogBounds, PartitionRange, ReplayRefusedError

TIMEOUT_MS = 10_000
# Empty polls of a second in a row after which a range that has not reached its end fails.
IDLE_POLLS = 15
# Sends in flight before waiting for the broker's acknowledgements.
_BATCH = 500


def _millis(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


@asynccontextmanager
async def reader(bootstrap_servers: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of no group: it reads and asks about offsets, and commits nothing."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=TIMEOUT_MS,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def partitions(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    """The topic's partitions as the broker has them (the catalogue may lag a change)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=TIMEOUT_MS)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    for found in described:
        if found["topic"] == topic and found["error_code"] == 0 and found["partitions"]:
            ids = sorted(p["partition"] for p in found["partitions"])
            return [TopicPartition(topic, p) for p in ids]
    raise ReplayRefusedError(f"topic {topic!r} does not exist on the broker")


async def log_bounds(
    bootstrap_servers: str, topic: str, start: datetime | None, end: datetime | None
) -> dict[int, LogBounds]:
    """Per partition: first and next offsets, and the first offsets at or after the times."""
    tps = await partitions(bootstrap_servers, topic)
    async with reader(bootstrap_servers) as consumer:
        return await _bounds(consumer, tps, start, end)


async def _bounds(
    consumer: AIOKafkaConsumer,
    tps: Sequence[TopicPartition],
    start: datetime | None,
    end: datetime | None,
) -> dict[int, LogBounds]:
    beginnings = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)
    at_start = await _offsets_at(consumer, tps, _millis(start))
    at_end = await _offsets_at(consumer, tps, _millis(end))
    return {
        tp.partition: LogBounds(beginnings[tp], ends[tp], at_start.get(tp), at_end.get(tp))
        for tp in tps
    }


async def _offsets_at(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], millis: int | None
) -> dict[TopicPartition, int]:
    if millis is None:
        return {}
    answers = await consumer.offsets_for_times(dict.fromkeys(tps, millis))
    return {tp: found.offset for tp, found in answers.items() if found is not None}


async def group_state(bootstrap_servers: str, group: str, topic: str) -> tuple[int, dict[int, int]]:
    """How many consumers are in the group now (0 for a group the broker does not know), and
    its committed offsets on the topic, by partition."""
    lag_reader = LagReader(bootstrap_servers, timeout_seconds=TIMEOUT_MS / 1000)
    await lag_reader.start()
    try:
        snapshot = await lag_reader.snapshot([group])
    finally:
        await lag_reader.close()
    state = snapshot.groups[0]
    committed = {
        p.partition: p.committed
        for p in state.partitions
        if p.topic == topic and p.committed is not None
    }
    return len(state.members), committed


async def commit_offsets(
    bootstrap_servers: str, group: str, topic: str, ranges: Sequence[PartitionRange]
) -> None:
    """Set the group's offsets to each range's start: a consumer of the group that is
    assigned the partitions rather than joining, so it commits without a rebalance. The
    coordinator refuses such a commit while the group has members."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        request_timeout_ms=TIMEOUT_MS,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, r.partition) for r in ranges]
        consumer.assign(tps)
        await consumer.commit(
            {
                tp: OffsetAndMetadata(r.start, "switchboard replay")
                for tp, r in zip(tps, ranges, strict=True)
            }
        )
    finally:
        await consumer.stop()


async def read_keys(bootstrap_servers: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every (key, value) of a topic, from its first offset to its end when asked."""
    found: list[tuple[bytes | None, bytes | None]] = []
    tps = await partitions(bootstrap_servers, topic)
    async with reader(bootstrap_servers) as consumer:
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        ranges = [PartitionRange(tp.partition, starts[tp], ends[tp]) for tp in tps]
        async for record in read_range(consumer, topic, ranges):
            found.append((record.key, record.value))
    return found


async def read_range(
    consumer: AIOKafkaConsumer, topic: str, ranges: Sequence[PartitionRange]
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Records of `[start, end)` on each partition, in order within a partition.

    A partition that stops short of its end for `IDLE_POLLS` polls in a row is an error,
    never a silent short read: reading `erasures.v1` incompletely would bring people back."""
    pending = {TopicPartition(topic, r.partition): r for r in ranges if r.count > 0}
    if not pending:
        return
    consumer.assign(list(pending))
    for tp, r in pending.items():
        consumer.seek(tp, r.start)
    idle = 0
    while pending:
        batch = await consumer.getmany(*pending, timeout_ms=1000)
        idle = 0 if any(batch.values()) else idle + 1
        if idle >= IDLE_POLLS:
            tp, r = next(iter(pending.items()))
            position = await consumer.position(tp)
            raise ReplayRefusedError(
                f"{topic} partition {tp.partition} stopped at offset {position}, "
                f"short of {r.end}; nothing after it was read"
            )
        for tp, records in batch.items():
            last = pending.get(tp)
            if last is None:
                continue
            for record in records:
                if record.offset >= last.end:
                    break
                yield record
            if await consumer.position(tp) >= last.end:
                del pending[tp]
                consumer.pause(tp)
        # A compacted or truncated range may end in a gap: the position tells.
        for tp in [tp for tp, r in pending.items() if await consumer.position(tp) >= r.end]:
            del pending[tp]


class Republisher:
    """Sends copies into a topic with acks=all and idempotence; `close` waits for every ack."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=TIMEOUT_MS,
        )
        self._inflight: list[asyncio.Future[object]] = []

    async def start(self) -> None:
        await self._producer.start()

    async def send(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        # The same partition as the original keeps each conversation's order.
        future = await self._producer.send(
            topic, value, key=key, partition=partition, headers=headers
        )
        self._inflight.append(future)
        if len(self._inflight) >= _BATCH:
            await self.wait()

    async def wait(self) -> None:
        await asyncio.gather(*self._inflight)
        self._inflight.clear()

    async def close(self) -> None:
        try:
            await self.wait()
        finally:
            await self._producer.stop()
