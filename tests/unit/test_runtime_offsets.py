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
