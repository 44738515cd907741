"""An ordered agent handles a partition's records in offset order, skipping none.

Faust can lose a record between the broker and an agent around seeks and rebalances
(streams/runtime/faust_fixes.py names the paths found so far). The records after it then reach
the agent first, and the lost one comes back only when the partition is read again: a
conversation's earlier message answered after its later one. So the agents whose order the
customer sees (``converse`` on inbound, ``deliver`` on actions) keep, per partition, the
offset they must handle next, and a record past it is a gap: the partition is read again
from the missing offset, and the records after it wait, unacknowledged, until it came.

Their topics are neither compacted nor transactional, so every offset holds a record; the
one exception is the head of a partition that retention deleted, which the log's first
offset shows (``Order.log_starts_at``).

``Order`` is pure; ``in_order`` does the reading again through the callables it is given.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

R = TypeVar("R")


class RecordPlace(Enum):
    """Where a record read falls against the offset its agent handles next."""

    NEXT = "next"  # the record to handle now
    AGAIN = "again"  # handled before, by this agent or before the commit: handling repeats
    GAP = "gap"  # records before it were not handled: read them first


@dataclass
class Order:
    """Per partition, the offset an agent handles next."""

    following: dict[Hashable, int] = field(default_factory=dict)

    def expected(self, tp: Hashable, committed: int | None) -> int | None:
        """The offset to handle next: after the last one handled here, and never before
        the committed offset (records before it were handled, here or by another worker)."""
        known = self.following.get(tp)
        if known is None or committed is None:
            return committed if known is None else known
        return max(known, committed)

    def judge(self, tp: Hashable, offset: int, committed: int | None) -> RecordPlace:
        expected = self.expected(tp, committed)
        if expected is None or offset == expected:
            self.following[tp] = offset + 1
            return RecordPlace.NEXT
        return RecordPlace.AGAIN if offset < expected else RecordPlace.GAP

    def log_starts_at(self, tp: Hashable, first: int) -> None:
        """The partition's log starts at ``first``: nothing before it is left to handle
        (retention deleted it, or a group that never committed starts there)."""
        known = self.following.get(tp)
        if known is None or known < first:
            self.following[tp] = first


@dataclass(frozen=True)
class Reader(Generic[R]):
    """What ``in_order`` needs of the consumer, and how long a partition sent back to a
    missing offset may take to bring it before it is sent back again."""

    place: Callable[[R], tuple[Hashable, int]]
    committed: Callable[[Hashable], int | None]
    read_again: Callable[[Hashable, int], Awaitable[None]]
    first_offset: Callable[[Hashable], Awaitable[int | None]]
    noticed: Callable[[Hashable, int, int], None] = lambda tp, expected, offset: None
    patience: float = 5.0
    clock: Callable[[], float] = time.monotonic


async def in_order(records: AsyncIterator[R], order: Order, reader: Reader[R]) -> AsyncIterator[R]:
    """The records to handle, in offset order per partition (repeats included: handling is
    idempotent), from the committed offset, or the log's start where the group never
    committed. A gap sends its partition back to the missing offset, unless the log no
    longer starts before it; the records past a gap are held back (the caller must not
    acknowledge them) until they come again. Records queued before the partition was sent
    back arrive after it: it is sent back again only if the missing one is still missing
    after ``patience`` seconds."""
    sent_back: dict[Hashable, tuple[int, float]] = {}
    async for record in records:
        tp, offset = reader.place(record)
        committed = reader.committed(tp)
        if order.expected(tp, committed) is None:
            # Never committed: the group reads the partition from its start.
            first = await reader.first_offset(tp)
            if first is not None:
                order.log_starts_at(tp, first)
        if order.judge(tp, offset, committed) is not RecordPlace.GAP:
            yield record
            continue
        expected = order.expected(tp, committed)
        assert expected is not None  # noqa: S101 - a gap is measured from an offset
        asked, at = sent_back.get(tp, (None, 0.0))
        if asked == expected and reader.clock() - at < reader.patience:
            continue  # sent back for it already: it is on its way
        first = await reader.first_offset(tp)
        if first is not None and first > expected:
            order.log_starts_at(tp, first)
            if order.judge(tp, offset, committed) is not RecordPlace.GAP:
                yield record
                continue
            expected = first
        sent_back[tp] = (expected, reader.clock())
        reader.noticed(tp, expected, offset)
        await reader.read_again(tp, expected)
