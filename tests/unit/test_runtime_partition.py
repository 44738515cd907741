"""An actor's partitions in lanes, with Faust's stream replaced by a partition that drops
records and seeks back the way faust_fixes.py describes: nothing is acknowledged that was
not handled, and every record ends up handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.runtime.batches import Batches
from streams.runtime.partition import Lanes, Partitions, run_batched
from streams.runtime.record_order import Reader


def record(partition: int, offset: int) -> Any:
    return SimpleNamespace(
        message=SimpleNamespace(tp=("inbound", partition), offset=offset), key=None
    )


async def test_a_lower_offset_of_another_partition_is_not_taken_for_a_repeat() -> None:
    """Partition 0 at offset 50, then partition 1 at offset 40: 40 is new, not read again."""
    acked: list[Any] = []

    class Manual:
        async def ack(self, item: Any) -> None:
            acked.append(item)

    held: list[int] = []
    partitions = Partitions(
        Manual(), Lanes(asyncio.Semaphore(10), 10, held.append), committed=lambda tp: None
    )
    first, second = record(0, 50), record(1, 40)

    async def nothing() -> None:
        return None

    await partitions.of(first).submit("a", 50, first, nothing)
    assert not partitions.of(second).taken(40)
    await partitions.of(second).submit("b", 40, second, nothing)
    await asyncio.sleep(0.01)
    assert acked == [first, second]
    assert partitions.of(first) is not partitions.of(second)


class LossyPartition:
    """One partition from ``start`` to ``end``, delivered as Faust may around seeks and
    rebalances: a record is dropped the first time it comes (``drops``), and after some
    records the position goes back (``seeks``: after offset → back to offset). At the end,
    what is still unacknowledged a while later is read again, as the commit watch does."""

    def __init__(self, start: int, end: int, drops: set[int], seeks: dict[int, int]) -> None:
        self.start, self.end = start, end
        self.drops, self.seeks = set(drops), dict(seeks)
        self.position = start
        self.acked: list[int] = []
        self.written: list[int] = []  # by the test's store
        self.acked_unwritten: list[int] = []

    def noack(self) -> LossyPartition:
        return self

    async def ack(self, item: Any) -> None:
        offset = item.message.offset
        self.acked.append(offset)
        if offset >= self.start and offset not in self.written:
            self.acked_unwritten.append(offset)

    def unacked(self) -> set[int]:
        return set(range(self.start, self.end)) - set(self.acked)

    async def events(self) -> AsyncIterator[Any]:
        for _ in range(200):  # settles long before; a bound so a bug cannot hang the test
            while self.position < self.end:
                offset = self.position
                self.position += 1
                if offset in self.drops:
                    self.drops.discard(offset)
                    continue
                yield record(0, offset)
                if offset in self.seeks:
                    self.position = self.seeks.pop(offset)
                await asyncio.sleep(0)
            await asyncio.sleep(0.005)
            if not self.unacked():
                return
            self.position = min(self.unacked())

    def reader(self) -> Reader[Any]:
        async def read_again(tp: Any, offset: int) -> None:
            self.position = offset

        async def first_offset(tp: Any) -> int | None:
            return 0

        return Reader(
            place=lambda item: (item.message.tp, item.message.offset),
            committed=lambda tp: self.start,
            read_again=read_again,
            first_offset=first_offset,
        )


@st.composite
def lossy_partitions(draw: st.DrawFn) -> tuple[int, int, set[int], dict[int, int]]:
    start = draw(st.integers(0, 5))
    end = start + draw(st.integers(1, 30))
    offsets = st.integers(start, end - 1)
    drops = draw(st.sets(offsets, max_size=6))
    after = draw(st.lists(offsets, max_size=3, unique=True))
    seeks = {a: draw(st.integers(start, a)) for a in after}
    return start, end, drops, seeks


@settings(max_examples=80, deadline=None)
@given(lossy_partitions(), st.integers(1, 8))
def test_the_store_acknowledges_only_what_it_wrote_whatever_the_partition_drops(
    partition: tuple[int, int, set[int], dict[int, int]], batch_size: int
) -> None:
    """Dropped records, seeks back, any batch size: every acknowledged offset was written
    first, each record is written in offset order the first time, and all are written."""
    start, end, drops, seeks = partition

    async def scenario() -> LossyPartition:
        stream = LossyPartition(start, end, drops, seeks)

        async def write(items: list[Any]) -> None:
            await asyncio.sleep(0)
            stream.written.extend(item.message.offset for item in items)

        lanes = Lanes(asyncio.Semaphore(4), 4, lambda count: None)
        batches = Batches(write, size=batch_size, within=0.001)
        await run_batched(stream, stream.reader(), lanes, batches)  # type: ignore[arg-type]
        return stream

    stream = asyncio.run(scenario())
    assert stream.acked_unwritten == []
    assert not stream.unacked()
    firsts = list(dict.fromkeys(stream.written))
    assert firsts == sorted(firsts)
