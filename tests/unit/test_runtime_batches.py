"""Batched writes: callers at once share one write, in the order they came, and each learns
how its own batch went."""

from __future__ import annotations

import asyncio

import pytest

from streams.runtime.batches import Batches


class Store:
    def __init__(self, fail_first: bool = False) -> None:
        self.writes: list[list[int]] = []
        self.fail_first = fail_first

    async def write(self, items: list[int]) -> None:
        await asyncio.sleep(0.001)
        if self.fail_first and not self.writes:
            self.writes.append([])
            raise ConnectionError("database gone")
        self.writes.append(list(items))


async def test_callers_at_once_share_writes_of_at_most_size_in_order() -> None:
    """Ten items, batches of four: three writes, in the order the items came."""
    store = Store()
    batches = Batches(store.write, size=4, within=1.0)
    await asyncio.gather(*(batches.add(n) for n in range(10)))
    assert store.writes[:2] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert store.writes[2] == [8, 9]


async def test_a_lone_item_is_written_after_the_wait() -> None:
    """One item and a large size: written once ``within`` has passed."""
    store = Store()
    batches = Batches(store.write, size=100, within=0.01)
    await asyncio.wait_for(batches.add(1), timeout=1.0)
    assert store.writes == [[1]]


async def test_a_failed_write_fails_its_callers_only() -> None:
    """The first batch's write fails: its callers see the error; the next batch is written."""
    store = Store(fail_first=True)
    batches = Batches(store.write, size=2, within=1.0)
    first = [asyncio.create_task(batches.add(n)) for n in (1, 2)]
    second = [asyncio.create_task(batches.add(n)) for n in (3, 4)]
    for task in first:
        with pytest.raises(ConnectionError):
            await task
    await asyncio.gather(*second)
    assert store.writes == [[], [3, 4]]


async def test_a_caller_that_leaves_does_not_stop_its_batch() -> None:
    """A revoked partition's caller is cancelled: the others' write still happens."""
    store = Store()
    batches = Batches(store.write, size=3, within=0.05)
    leaving = asyncio.create_task(batches.add(1))
    staying = asyncio.create_task(batches.add(2))
    await asyncio.sleep(0)
    leaving.cancel()
    await staying
    assert store.writes == [[1, 2]]
