"""Records Faust fetched for a partition it may not read right now are kept for later: the
partition's fetch position goes back to the first of them, so none is skipped. A commit never
moves past a record nobody handled, unless Faust knows its offset holds no record."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from faust.transport.consumer import Consumer
from intervaltree import IntervalTree

from streams.runtime.app import UnsupportedFaustError, check_faust_version
from streams.runtime.commit_watch import CommitAction, Head
from streams.runtime.faust_fixes import (
    head_of,
    held_back,
    hold_back_during_rebalance,
    hold_unhandled_heads,
    ignore_delivery_gaps,
    keep_for_later,
    note_reads,
    refuse_stale_acks,
    repair,
    streams_run,
)

TP = "inbound-3"
PARTITION = TopicPartition("inbound", 3)


@dataclass(frozen=True)
class Record:
    offset: int


def records(*offsets: int) -> list[Record]:
    return [Record(o) for o in offsets]


async def test_records_of_paused_partitions_are_fetched_again_from_the_first() -> None:
    seeks: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    fetched = {"inbound-0": records(10, 11), "inbound-1": records(861, 862), "actions-2": []}
    await keep_for_later(fetched, {"inbound-0"}, {"inbound-0", "inbound-1"}, seek)
    assert fetched == {"inbound-0": records(10, 11)}
    assert seeks == [("inbound-1", 861)]


async def test_a_partition_no_longer_ours_is_left_to_its_next_owner() -> None:
    seeks: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    fetched = {"inbound-3": records(5)}
    await keep_for_later(fetched, set(), set(), seek)
    assert fetched == {}
    assert seeks == []


def consumer(
    committed: int | None,
    acked: list[int],
    gap: IntervalTree | None = None,
    *,
    tp: object = TP,
) -> Any:
    """What Faust's consumer keeps per partition to decide its next commit."""
    return SimpleNamespace(
        _committed_offset={tp: committed},
        _acked=defaultdict(list, {tp: acked}),
        _acked_index=defaultdict(set, {tp: set(acked)}),
        _gap=defaultdict(IntervalTree, {tp: gap or IntervalTree()}),
        _unacked_messages=set(),
    )


def next_commit(state: Any) -> int | None:
    hold_unhandled_heads()
    return Consumer._new_offset(state, TP)  # type: ignore[arg-type]


def test_a_commit_waits_for_the_record_at_the_committed_offset() -> None:
    # Faust alone would commit 103 here, past record 100 that nobody handled.
    assert next_commit(consumer(100, [101, 102])) is None


def test_a_commit_moves_on_once_the_head_is_handled() -> None:
    assert next_commit(consumer(100, [101, 102, 100])) == 103


def test_offsets_the_watch_found_empty_do_not_hold_the_commit() -> None:
    assert next_commit(consumer(100, [103], IntervalTree.from_tuples([(100, 103)]))) == 104


def test_a_jump_in_delivered_offsets_is_not_taken_for_empty_offsets() -> None:
    """Around a seek, a jump means records fetched again were dropped, not a compacted hole."""
    ignore_delivery_gaps()
    state = consumer(100, [126])
    asyncio.run(Consumer._add_gap(state, TP, 101, 126))  # type: ignore[arg-type]
    assert not state._gap[TP]
    assert next_commit(state) is None


def test_a_partition_never_committed_commits_from_its_first_acknowledged_record() -> None:
    assert next_commit(consumer(None, [7, 8])) == 9


@dataclass(frozen=True)
class Message:
    tp: str
    offset: int
    generation_id: int = 1
    acked: bool = False


def test_the_head_records_what_the_watch_needs() -> None:
    state = consumer(100, [103])
    state._unacked_messages = {Message(TP, 104), Message(TP, 101, generation_id=0)}
    note_reads(state, {TP: records(100, 101)})
    note_reads(state, {TP: records(102)})
    assert head_of(state, TP, generation=1) == Head(100, 103, False, True, True)


def test_a_record_of_this_generation_being_handled_counts_as_in_flight() -> None:
    state = consumer(100, [103])
    state._unacked_messages = {Message(TP, 101)}
    head = head_of(state, TP, generation=1)
    assert head is not None
    assert head.in_flight
    assert not head.head_read


def acking(generation: int, *, flowing: bool) -> Any:
    """A consumer whose acknowledgements would be recorded, were they let through."""
    app = SimpleNamespace(
        consumer_generation_id=generation,
        flow_control=SimpleNamespace(is_active=lambda: flowing),
        topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
    )
    state = consumer(100, [])
    state.app = app
    state._n_acked = 0
    state._waiting_for_ack = None
    return state


@dataclass(eq=False)
class Acked:
    offset: int
    generation_id: int
    tp: str = TP
    topic: str = "inbound"
    acked: bool = False


def test_an_acknowledgement_counts_only_in_the_generation_and_flow_it_was_read_in() -> None:
    refuse_stale_acks()
    flowing = acking(4, flowing=True)
    assert Consumer.ack(flowing, Acked(100, generation_id=4))  # type: ignore[arg-type]
    assert flowing._acked[TP] == [100]
    for state, message in (
        (acking(4, flowing=True), Acked(101, generation_id=3)),  # read before the rebalance
        (acking(3, flowing=False), Acked(101, generation_id=3)),  # skipped during it
    ):
        assert not Consumer.ack(state, message)  # type: ignore[arg-type]
        assert state._acked[TP] == []


async def fetched(*items: tuple[str, int]) -> AsyncIterator[tuple[str, Record]]:
    for tp, offset in items:
        yield tp, Record(offset)


async def passed_on(
    streaming: bool, committed: dict[str, int | None], *, stale: bool = False
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    seeks: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    batch = fetched(("changelog-1", 7), ("inbound-1", 40), ("inbound-1", 41), ("inbound-2", 9))
    out = [
        (tp, m.offset)
        async for tp, m in held_back(
            batch,
            stale=lambda tp: tp == "inbound-2" and stale,
            streaming=lambda: streaming,
            is_changelog=lambda tp: tp.startswith("changelog"),
            committed=committed,
            assigned={"changelog-1", "inbound-1", "inbound-2"},
            seek=seek,
        )
    ]
    return out, seeks


async def test_while_the_streams_run_every_record_is_passed_on() -> None:
    out, seeks = await passed_on(True, {})
    assert out == [("changelog-1", 7), ("inbound-1", 40), ("inbound-1", 41), ("inbound-2", 9)]
    assert seeks == []


async def test_during_a_rebalance_only_changelog_records_are_passed_on() -> None:
    # Before the rebalance's own seek (no committed offset yet) each partition goes back to
    # its first held-back record: Faust delivers records fetched before that seek.
    out, seeks = await passed_on(False, {})
    assert out == [("changelog-1", 7)]
    assert seeks == [("inbound-1", 40), ("inbound-2", 9)]


async def test_records_held_back_after_the_rebalance_seek_send_the_partition_back() -> None:
    out, seeks = await passed_on(False, {"inbound-1": 38, "inbound-2": None})
    assert out == [("changelog-1", 7)]
    assert seeks == [("inbound-1", 38), ("inbound-2", 9)]


async def test_a_held_head_is_read_again_from_the_committed_offset() -> None:
    seeks: list[tuple[TopicPartition, int]] = []

    async def seek(tp: TopicPartition, offset: int) -> None:
        seeks.append((tp, offset))

    state = consumer(100, [103], tp=PARTITION)
    state.seek = seek
    note_reads(state, {PARTITION: records(100, 104)})
    await repair(state, PARTITION, Head(100, 103, False, True, True), CommitAction.REREAD)
    assert seeks == [(PARTITION, 100)]
    # What was read before counts no more: the next verdict waits for the fetch again.
    assert head_of(state, PARTITION, generation=1) == Head(100, 103, False, False, False)


async def test_offsets_proved_empty_are_moved_past() -> None:
    state = consumer(100, [103, 104], tp=PARTITION)
    await repair(state, PARTITION, Head(100, 103, False, False, True), CommitAction.SKIP)
    hold_unhandled_heads()
    assert Consumer._new_offset(state, PARTITION) == 105


async def test_records_of_a_partition_moved_since_they_were_fetched_are_not_delivered() -> None:
    out, seeks = await passed_on(True, {}, stale=True)
    assert out == [("changelog-1", 7), ("inbound-1", 40), ("inbound-1", 41)]
    assert seeks == []


def rebalancing_consumer(generation: int, *, flowing: bool = True) -> Any:
    """A consumer whose rebalance's seek to the committed offsets is a broker round trip."""

    async def seek_to_committed() -> dict[TopicPartition, int]:
        return {PARTITION: 40}

    return SimpleNamespace(
        app=SimpleNamespace(
            consumer_generation_id=generation,
            flow_control=SimpleNamespace(is_active=lambda: flowing),
        ),
        _read_offset={},
        _committed_offset={},
        seek_to_committed=seek_to_committed,
        assignment=lambda: {PARTITION},
        _is_changelog_tp=lambda tp: False,
    )


async def test_the_streams_wait_for_the_rebalance_seek_to_the_committed_offsets() -> None:
    """Faust resumes the partitions a moment before that seek: what they fetch meanwhile
    is held back, whatever the flow control says."""
    hold_back_during_rebalance()
    state = rebalancing_consumer(generation=7)
    assert not streams_run(state)
    await Consumer.perform_seek(state)
    assert streams_run(state)
    state.app.consumer_generation_id = 8  # the next rebalance: its own seek is awaited
    assert not streams_run(state)


def test_the_streams_never_run_while_flow_control_is_off() -> None:
    state = rebalancing_consumer(generation=7, flowing=False)
    state._switchboard_sought_in_generation = 7
    assert not streams_run(state)


def test_the_worker_refuses_another_faust_release() -> None:
    """The patches fit 0.15.3's private methods: any other release stops the worker."""
    check_faust_version("0.15.3")
    with pytest.raises(UnsupportedFaustError, match=r"0\.16\.0"):
        check_faust_version("0.16.0")
