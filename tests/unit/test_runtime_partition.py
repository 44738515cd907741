"""An actor handed records of several partitions keeps one tracker each: offsets are only
comparable within a partition."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from streams.runtime.partition import Lanes, Partitions


def record(partition: int, offset: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(tp=("inbound", partition), offset=offset))


async def test_a_lower_offset_of_another_partition_is_not_taken_for_a_repeat() -> None:
    """Partition 0 at offset 50, then partition 1 at offset 40: 40 is new, not read again."""
    acked: list[Any] = []

    class Manual:
        async def ack(self, item: Any) -> None:
            acked.append(item)

    held: list[int] = []
    partitions = Partitions(Manual(), Lanes(asyncio.Semaphore(10), 10, held.append))
    first, second = record(0, 50), record(1, 40)

    async def nothing() -> None:
        return None

    await partitions.of(first).submit("a", 50, first, nothing)
    assert not partitions.of(second).taken(40)
    await partitions.of(second).submit("b", 40, second, nothing)
    await asyncio.sleep(0.01)
    assert acked == [first, second]
    assert partitions.of(first) is not partitions.of(second)
