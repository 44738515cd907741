"""A commit held back by a record nobody handles is read again, and moved past only when
the log proves to hold no record there; anything being handled is left alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.runtime.commit_watch import CommitAction, Head, Held, judge

PATIENCE = 10.0


def head(
    committed: int = 100,
    lowest_acked: int | None = 103,
    *,
    in_flight: bool = False,
    head_read: bool = False,
    read_past: bool = False,
) -> Head:
    return Head(committed, lowest_acked, in_flight, head_read, read_past)


def test_a_partition_whose_head_is_handled_is_fine() -> None:
    assert judge(head(lowest_acked=100), None, 0.0, PATIENCE) == (None, CommitAction.FINE)
    assert judge(head(lowest_acked=None), None, 0.0, PATIENCE) == (None, CommitAction.FINE)


def test_a_head_being_handled_is_waited_for_however_long_it_takes() -> None:
    long_ago = Held(100, since=-3600.0)
    assert judge(head(in_flight=True), long_ago, 0.0, PATIENCE) == (None, CommitAction.FINE)


def test_a_held_head_is_first_watched_then_read_again_after_the_patience() -> None:
    held, verdict = judge(head(), None, 5.0, PATIENCE)
    assert (held, verdict) == (Held(100, 5.0), CommitAction.WAIT)
    assert judge(head(), held, 14.9, PATIENCE) == (held, CommitAction.WAIT)
    assert judge(head(), held, 15.0, PATIENCE) == (
        Held(100, 15.0, reread=True),
        CommitAction.REREAD,
    )


def test_a_commit_that_moved_starts_the_watch_over() -> None:
    old = Held(90, since=0.0, reread=True)
    assert judge(head(), old, 50.0, PATIENCE) == (Held(100, 50.0), CommitAction.WAIT)


def test_offsets_read_past_but_never_returned_hold_no_record_and_are_moved_past() -> None:
    reread = Held(100, since=0.0, reread=True)
    assert judge(head(read_past=True), reread, 10.0, PATIENCE) == (None, CommitAction.SKIP)


def test_a_head_that_came_back_but_was_dropped_again_is_read_again_never_skipped() -> None:
    reread = Held(100, since=0.0, reread=True)
    again = judge(head(head_read=True, read_past=True), reread, 10.0, PATIENCE)
    assert again == (Held(100, 10.0, reread=True), CommitAction.REREAD)


def test_nothing_read_since_the_reread_means_waiting_for_the_fetch() -> None:
    reread = Held(100, since=0.0, reread=True)
    assert judge(head(), reread, 60.0, PATIENCE) == (reread, CommitAction.WAIT)


heads = st.builds(
    Head,
    committed=st.integers(0, 1000),
    lowest_acked=st.none() | st.integers(0, 1000),
    in_flight=st.booleans(),
    head_read=st.booleans(),
    read_past=st.booleans(),
)
helds = st.none() | st.builds(
    Held, committed=st.integers(0, 1000), since=st.floats(0, 100), reread=st.booleans()
)


@given(heads, helds, st.floats(0, 200))
def test_a_head_that_was_read_is_never_moved_past(h: Head, held: Held | None, now: float) -> None:
    _, verdict = judge(h, held, now, PATIENCE)
    if h.head_read or h.in_flight or not h.read_past:
        assert verdict is not CommitAction.SKIP


@given(heads, helds, st.floats(0, 200))
def test_nothing_is_done_before_the_patience_runs_out(
    h: Head, held: Held | None, now: float
) -> None:
    _, verdict = judge(h, held, now, PATIENCE)
    if verdict in (CommitAction.REREAD, CommitAction.SKIP):
        assert held is not None
        assert held.committed == h.committed
        assert now - held.since >= PATIENCE
