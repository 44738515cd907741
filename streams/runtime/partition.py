"""The ordered agents' loop over one partition, in keyed lanes: Faust's stream in, records
acknowledged in offset order out. (`lanes` and `offsets` hold the rules, without Faust.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from datakeys.keyring import KeyRing
from schemas.events import Event
from streams.runtime.batches import Batches
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.lanes import PartitionLanes
from streams.runtime.reading import read_event
from streams.runtime.record_order import Order, Reader, in_order
from streams.runtime.types import Record, Stream
from switchboard import logs

Handle = Callable[[Record, Event], Awaitable[None]]


@dataclass(frozen=True)
class Lanes:
    """What every partition's lanes of one agent share: the process-wide bound on records
    running, the per-partition window, and the gauge of records held."""

    running: asyncio.Semaphore
    window: int
    held: Callable[[int], None]


@dataclass(frozen=True)
class Reading:
    """How an ordered agent reads: events opened with the key ring, unreadable records
    dead-lettered, each partition's records in offset order (`streams.runtime.record_order`)."""

    keyring: KeyRing
    dead_letters: DeadLetters
    order: Reader[Record]


class Partitions:
    """The lanes of every partition an actor is given, one tracker each. An isolated actor
    normally gets one partition, but the actor Faust starts before the first assignment may
    be handed records of several: offsets are only comparable within a partition."""

    def __init__(self, manual: Any, lanes: Lanes, committed: Callable[[Any], int | None]) -> None:
        self._manual = manual
        self._lanes = lanes
        self._committed = committed
        self._by_tp: dict[Any, PartitionLanes[Record]] = {}

    def of(self, record: Record) -> PartitionLanes[Record]:
        tp = record.message.tp
        found = self._by_tp.get(tp)
        if found is None:
            found = self._by_tp[tp] = PartitionLanes(
                window=self._lanes.window,
                running=self._lanes.running,
                release=_acknowledge(self._manual),
                released=lambda count: self._lanes.held(-count),
                start=self._committed(tp),
            )
        return found

    def close(self) -> None:
        for runner in self._by_tp.values():
            self._lanes.held(-runner.held)
            runner.close()


async def run_in_lanes(stream: Stream, reading: Reading, lanes: Lanes, handle: Handle) -> None:
    """Run a partition's records in keyed lanes (`streams.runtime.lanes`): a conversation's
    records in offset order, conversations at once; each acknowledged once it and every
    record before it is done. Records that are skipped (forgotten contacts, dead letters)
    pass through their lane too, so acknowledgements stay in offset order."""
    manual = stream.noack()  # type: ignore[attr-defined]  # missing from Faust's StreamT
    partitions = Partitions(manual, lanes, reading.order.committed)
    try:
        async for record in in_order(manual.events(), Order(), reading.order):
            runner, offset = await _take(partitions, lanes, record)
            if runner is None:
                continue
            event = await read_event(record, reading.keyring, reading.dead_letters)
            if event is not None:
                # Ids and the record's place on every log line of its lane (a task keeps
                # the context it was started in).
                logs.bind_event(event, record.message.partition, offset)
            await runner.submit(record.key or offset, offset, record, _work(handle, record, event))
    finally:
        partitions.close()


async def run_batched(
    stream: Stream,
    order: Reader[Record],
    lanes: Lanes,
    batches: Batches[Record],
) -> None:
    """Add each of a partition's records to ``batches`` (the storage agent's writes) and
    acknowledge it, in offset order, once its batch is written. The records come in offset
    order, none skipped (`streams.runtime.record_order`): a record Faust dropped around a seek is
    read again before any after it is taken, so none is acknowledged unwritten. Order within
    the partition is kept by the batches themselves: written in the order records came."""
    manual = stream.noack()  # type: ignore[attr-defined]  # missing from Faust's StreamT
    partitions = Partitions(manual, lanes, order.committed)
    try:
        async for record in in_order(manual.events(), Order(), order):
            runner, offset = await _take(partitions, lanes, record)
            if runner is not None:
                await runner.submit(offset, offset, record, partial(batches.add, record))
    finally:
        partitions.close()


async def _take(
    partitions: Partitions, lanes: Lanes, record: Record
) -> tuple[PartitionLanes[Record] | None, int]:
    """The lanes a new record goes to, counted as held, and its offset; no lanes for a
    record read again after a seek (it is running or done already: it is acknowledged with
    its offset, not run twice)."""
    runner, offset = partitions.of(record), record.message.offset
    if runner.taken(offset):
        await runner.again(offset, record)
        return None, offset
    lanes.held(1)
    return runner, offset


def _acknowledge(manual: Any) -> Callable[[Sequence[Record]], Awaitable[None]]:
    async def acknowledge(records: Sequence[Record]) -> None:
        for record in records:
            await manual.ack(record)

    return acknowledge


def _work(
    handle: Callable[[Record, Event], Awaitable[None]],
    record: Record,
    event: Event | None,
) -> Callable[[], Awaitable[None]]:
    async def nothing() -> None:
        return None

    if event is None:
        return nothing
    return lambda: handle(record, event)
