"""The commit tracker: an offset is released only when it and everything taken before it
are done, whatever order records finish in and wherever a crash cuts in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.runtime.offsets import OffsetOrderError, PartitionOffsets


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """Increasing offsets with gaps, an order they finish in, and where a crash cuts in."""
    gaps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=40))
    offsets = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    order = draw(st.permutations(offsets))
    crash = draw(st.integers(0, len(order)))
    return offsets, list(order), crash


@given(runs())
def test_nothing_is_released_past_an_unfinished_record(
    run: tuple[list[int], list[int], int],
) -> None:
    """Any completion order, any crash point: released offsets are a prefix of the taken
    ones, each finished, and the next offset read after a crash is the first unreleased."""
    offsets, order, crash = run
    tracker = PartitionOffsets()
    for offset in offsets:
        tracker.take(offset)
    released: list[int] = []
    finished: set[int] = set()
    for offset in order[:crash]:
        finished.add(offset)
        released += tracker.finish(offset)
        assert released == offsets[: len(released)]
        assert set(released) <= finished
        # The head still held is unfinished, or nothing is held.
        assert tracker.oldest is None or tracker.oldest not in finished
    assert all(tracker.taken(o) for o in offsets)
    restart_at = offsets[len(released)] if len(released) < len(offsets) else None
    assert tracker.oldest == restart_at
    assert tracker.in_flight == len(offsets) - len(released)


def test_all_finished_releases_everything_in_order() -> None:
    """Finishing in reverse releases all at once, in offset order."""
    tracker = PartitionOffsets()
    for offset in (3, 4, 7):
        tracker.take(offset)
    assert tracker.finish(7) == []
    assert tracker.finish(4) == []
    assert tracker.finish(3) == [3, 4, 7]
    assert tracker.in_flight == 0


def test_misuse_is_refused() -> None:
    """Offsets out of order, or finished twice or untaken, are wiring bugs."""
    tracker = PartitionOffsets()
    tracker.take(5)
    with pytest.raises(OffsetOrderError):
        tracker.take(5)
    with pytest.raises(OffsetOrderError):
        tracker.finish(6)
    tracker.finish(5)
    with pytest.raises(OffsetOrderError):
        tracker.finish(5)


def test_an_offset_passed_over_is_not_taken_and_cannot_be_taken_late() -> None:
    """From the committed offset 10, records 12 and 15 are taken: 10, 11, 13 and 14 were
    never handled here, so a late copy of one is not waved through as a repeat."""
    tracker = PartitionOffsets(start=10)
    tracker.take(12)
    tracker.take(15)
    assert [o for o in range(8, 17) if tracker.taken(o)] == [8, 9, 12, 15]
    with pytest.raises(OffsetOrderError):
        tracker.take(13)


def test_without_a_start_only_offsets_taken_count() -> None:
    """A partition never committed: nothing before the first record counts as handled."""
    tracker = PartitionOffsets()
    tracker.take(4)
    tracker.take(5)
    assert [o for o in range(0, 8) if tracker.taken(o)] == [4, 5]
