"""Keyed lanes: one conversation's records in order, many conversations at once, bounded,
and acknowledged only as the done prefix of the partition."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.runtime.lanes import PartitionLanes


class Recorder:
    def __init__(self) -> None:
        self.started: list[int] = []
        self.ended: list[int] = []
        self.released: list[int] = []
        self.running = 0
        self.most_running = 0

    async def release(self, items: Sequence[int]) -> None:
        await asyncio.sleep(0)  # a release that yields must not let a later one overtake it
        self.released.extend(items)

    def work(self, offset: int, seconds: float) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.started.append(offset)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            await asyncio.sleep(seconds)
            self.running -= 1
            self.ended.append(offset)

        return run


def lanes(recorder: Recorder, window: int = 100, running: int = 100) -> PartitionLanes[int]:
    return PartitionLanes(
        window=window, running=asyncio.Semaphore(running), release=recorder.release
    )


async def test_a_slow_conversation_does_not_hold_up_the_others() -> None:
    """Key a's first record is slow: b and c finish first, a's second waits for a's first."""
    recorder = Recorder()
    runner = lanes(recorder)
    for offset, key, seconds in ((0, "a", 0.05), (1, "b", 0), (2, "a", 0), (3, "c", 0)):
        await runner.submit(key, offset, offset, recorder.work(offset, seconds))
    await runner.drain()
    assert recorder.ended.index(1) < recorder.ended.index(0)
    assert recorder.ended.index(3) < recorder.ended.index(0)
    assert recorder.ended.index(0) < recorder.ended.index(2)
    assert recorder.released == [0, 1, 2, 3]


async def test_nothing_is_acknowledged_past_a_record_still_running() -> None:
    """While offset 0 runs, the done offsets behind it are held back."""
    recorder = Recorder()
    runner = lanes(recorder)
    await runner.submit("a", 0, 0, recorder.work(0, 0.05))
    await runner.submit("b", 1, 1, recorder.work(1, 0))
    await asyncio.sleep(0.01)
    assert recorder.ended == [1]
    assert recorder.released == []
    assert runner.held == 2
    await runner.drain()
    assert recorder.released == [0, 1]


async def test_a_full_window_stops_taking_records_until_the_head_is_released() -> None:
    """With a window of 2 and the head parked, a third record is not taken."""
    recorder = Recorder()
    runner = lanes(recorder, window=2)
    parked = asyncio.Event()

    async def park() -> None:
        await parked.wait()

    await runner.submit("a", 0, 0, park)
    await runner.submit("b", 1, 1, recorder.work(1, 0))
    third = asyncio.create_task(runner.submit("c", 2, 2, recorder.work(2, 0)))
    await asyncio.sleep(0.02)
    assert not third.done()
    parked.set()
    await third
    await runner.drain()
    assert recorder.released == [0, 1, 2]


async def test_the_shared_bound_caps_records_running_at_once() -> None:
    """Ten keys, a bound of three: never more than three run together."""
    recorder = Recorder()
    runner = lanes(recorder, running=3)
    for offset in range(10):
        await runner.submit(offset, offset, offset, recorder.work(offset, 0.01))
    await runner.drain()
    assert recorder.most_running == 3
    assert recorder.released == list(range(10))


async def test_closing_abandons_work_in_flight() -> None:
    """A revoked partition: running work is cancelled and nothing more is acknowledged."""
    recorder = Recorder()
    runner = lanes(recorder)
    await runner.submit("a", 0, 0, recorder.work(0, 10))
    await runner.submit("a", 1, 1, recorder.work(1, 0))
    await asyncio.sleep(0.01)
    runner.close()
    await asyncio.sleep(0.01)
    assert recorder.released == []
    assert recorder.started == [0]


async def test_a_failing_lane_fails_the_actor_and_stops_its_key() -> None:
    """Work that raises: the next submit raises it, and the key's later record never runs."""
    recorder = Recorder()
    runner = lanes(recorder)

    async def boom() -> None:
        raise RuntimeError("bug")

    await runner.submit("a", 0, 0, boom)
    await runner.submit("a", 1, 1, recorder.work(1, 0))
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError):
        await runner.submit("b", 2, 2, recorder.work(2, 0))
    assert 1 not in recorder.started
    assert recorder.released == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 3)),
        min_size=1,
        max_size=25,
    ),
    st.integers(1, 6),
    st.integers(1, 4),
)
def test_per_key_order_and_in_order_release_hold_for_any_timing(
    records: list[tuple[int, int]], window: int, running: int
) -> None:
    """Random keys and durations, any window and bound: each key's records start in offset
    order, one at a time, and acknowledgements leave in offset order, all of them."""

    async def scenario() -> Recorder:
        recorder = Recorder()
        runner = lanes(recorder, window=window, running=running)
        for offset, (key, ticks) in enumerate(records):
            await runner.submit(key, offset, offset, recorder.work(offset, ticks / 1000))
        await runner.drain()
        return recorder

    recorder = asyncio.run(scenario())
    for key in {k for k, _ in records}:
        mine = [o for o, (k, _) in enumerate(records) if k == key]
        assert [o for o in recorder.started if o in mine] == mine
        assert [o for o in recorder.ended if o in mine] == mine
    assert recorder.released == list(range(len(records)))


async def test_a_record_read_again_is_acknowledged_with_its_offset_not_run_twice() -> None:
    """After a seek back, copies of taken records come again: a copy of a record still
    running is acknowledged with it, a copy of one released already at once; neither runs."""
    recorder = Recorder()
    runner = lanes(recorder)
    parked = asyncio.Event()

    async def park() -> None:
        await parked.wait()

    await runner.submit("a", 0, 0, recorder.work(0, 0))
    await asyncio.sleep(0.01)
    await runner.submit("b", 1, 1, park)
    assert runner.taken(0)
    assert runner.taken(1)
    await runner.again(0, 100)  # released already: acknowledged now
    await runner.again(1, 101)  # still running: goes with it
    assert recorder.released == [0, 100]
    parked.set()
    await runner.drain()
    assert recorder.released == [0, 100, 1, 101]
    assert recorder.started == [0]
