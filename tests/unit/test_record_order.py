"""An ordered agent handles each partition's records in offset order, skipping none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.runtime.record_order import Order, Reader, RecordPlace, in_order

TP = "inbound-0"


def test_the_first_record_after_the_commit_is_next() -> None:
    order = Order()
    assert order.judge(TP, 10, committed=10) is RecordPlace.NEXT
    assert order.judge(TP, 11, committed=10) is RecordPlace.NEXT


def test_a_record_past_the_next_one_is_a_gap() -> None:
    order = Order()
    assert order.judge(TP, 12, committed=10) is RecordPlace.GAP
    assert order.expected(TP, committed=10) == 10


def test_records_handled_before_come_again_as_repeats() -> None:
    order = Order()
    for offset in (10, 11, 12):
        order.judge(TP, offset, committed=10)
    assert order.judge(TP, 11, committed=10) is RecordPlace.AGAIN  # read again after a seek
    assert order.judge(TP, 9, committed=10) is RecordPlace.AGAIN  # committed before
    assert order.judge(TP, 13, committed=10) is RecordPlace.NEXT


def test_a_commit_made_elsewhere_moves_the_next_offset_on() -> None:
    """Another worker owned the partition for a while and committed 20."""
    order = Order()
    order.judge(TP, 10, committed=10)
    assert order.judge(TP, 20, committed=20) is RecordPlace.NEXT


def test_a_group_that_never_committed_starts_where_the_log_does() -> None:
    assert Order().judge(TP, 0, committed=None) is RecordPlace.NEXT


@dataclass
class Partition:
    """A partition's log and a consumer's position in it, losing the deliveries it is told
    to (as Faust can around seeks and rebalances)."""

    size: int
    first: int = 0
    position: int = 0
    losses: set[int] = field(default_factory=set)  # the n-th deliveries that are lost
    delivered: int = 0
    sent_back: list[int] = field(default_factory=list)
    now: float = 0.0

    async def records(self, steps: int) -> AsyncIterator[int]:
        for _ in range(steps):
            self.now += 1.0
            if self.position >= self.size:
                continue  # nothing new yet: time passes
            offset, self.position = self.position, self.position + 1
            self.delivered += 1
            if self.delivered not in self.losses:
                yield offset
            await asyncio.sleep(0)

    def reader(self) -> Reader[int]:
        async def read_again(tp: Hashable, offset: int) -> None:
            self.sent_back.append(offset)
            self.position = max(offset, self.first)

        async def first_offset(tp: Hashable) -> int | None:
            return self.first

        return Reader(
            place=lambda offset: (TP, offset),
            committed=lambda tp: None,
            read_again=read_again,
            first_offset=first_offset,
            patience=3.0,
            clock=lambda: self.now,
        )


async def handled(partition: Partition, steps: int) -> list[int]:
    return [o async for o in in_order(partition.records(steps), Order(), partition.reader())]


async def test_a_lost_record_is_read_again_before_the_records_after_it() -> None:
    partition = Partition(size=6, losses={3})  # offset 2 never reaches the agent
    got = await handled(partition, steps=30)
    assert partition.sent_back == [2]
    assert got == [0, 1, 2, 3, 4, 5]


async def test_a_record_lost_again_is_asked_for_again_after_a_while() -> None:
    partition = Partition(size=6, losses={3, 5})  # offset 2, and again after the reread
    got = await handled(partition, steps=40)
    assert partition.sent_back == [2, 2]
    assert got == [0, 1, 2, 3, 4, 5]


async def test_offsets_retention_deleted_are_not_waited_for() -> None:
    """The group committed 2, but the log now starts at 5."""
    partition = Partition(size=8, first=5, position=5)
    reader = partition.reader()
    ordered = Reader(
        place=reader.place,
        committed=lambda tp: 2,
        read_again=reader.read_again,
        first_offset=reader.first_offset,
        clock=reader.clock,
    )
    got = [o async for o in in_order(partition.records(20), Order(), ordered)]
    assert got == [5, 6, 7]
    assert partition.sent_back == []


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=30),
    losses=st.sets(st.integers(min_value=1, max_value=60), max_size=8),
)
def test_whatever_is_lost_no_record_is_handled_before_an_earlier_one(
    size: int, losses: set[int]
) -> None:
    """Records are first handled in offset order, none skipped. (A lost last record, with
    nothing after it to show the gap, holds the commit: the commit watch reads it again.)"""
    partition = Partition(size=size, losses=losses)
    got = asyncio.run(handled(partition, steps=40 * size + 400))
    first_times = list(dict.fromkeys(got))
    assert first_times == list(range(len(first_times)))
    assert all(offset < len(first_times) for offset in got)


async def test_a_group_that_never_committed_reads_a_lost_first_record_again() -> None:
    partition = Partition(size=3, losses={1})  # offset 0
    got = await handled(partition, steps=20)
    assert partition.sent_back == [0]
    assert got == [0, 1, 2]
