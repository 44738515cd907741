"""Burrow's lag rules over hand-built windows of samples."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lag.evaluate import Sample, Status, evaluate, lag_seconds, worst


def window(
    *points: tuple[int, int], assigned: bool = True, start: float = 1000.0, step: float = 10.0
) -> list[Sample]:
    """Samples `step` seconds apart from (committed, log_end) pairs."""
    return [
        Sample(start + i * step, committed, log_end, assigned=assigned)
        for i, (committed, log_end) in enumerate(points)
    ]


def test_empty_window_is_ok() -> None:
    """Nothing seen yet is nothing wrong."""
    assert evaluate([]) is Status.OK


def test_caught_up_is_ok_whatever_came_before() -> None:
    """A partition whose newest sample has no lag is never in error, even after a rewind."""
    samples = window((50, 60), (10, 60), (60, 60), assigned=False)
    assert evaluate(samples) is Status.OK


def test_consumer_keeping_up_is_ok() -> None:
    """Offsets move and the lag shrinks or wobbles: OK."""
    assert evaluate(window((10, 20), (18, 25), (30, 31))) is Status.OK
    assert evaluate(window((10, 20), (20, 25), (25, 34))) is Status.OK


def test_no_member_with_lag_is_stopped_from_one_sample() -> None:
    """Messages wait and no member holds the partition: STOP, even from a single look."""
    assert evaluate(window((0, 1000), assigned=False)) is Status.STOP


def test_stop_waits_for_the_threshold() -> None:
    """With stop_after, the unmoved offset must have been seen for that long without a member."""
    samples = window((5, 100), (5, 200), assigned=False, step=10.0)
    assert evaluate(samples, stop_after=10.0) is Status.STOP
    assert evaluate(samples, stop_after=10.1) is not Status.STOP
    # Before the threshold, a consumer that made no progress is stalled.
    assert evaluate(samples, stop_after=10.1) is Status.STALL


def test_stop_counts_only_since_the_offset_last_moved() -> None:
    """Time before the last commit does not count towards stop_after."""
    samples = window((1, 100), (2, 100), (2, 110), assigned=False, step=10.0)
    assert evaluate(samples, stop_after=15.0) is not Status.STOP
    assert evaluate(samples, stop_after=10.0) is Status.STOP


def test_member_leaving_just_now_is_not_yet_stopped() -> None:
    """A member held the partition at the current offset earlier in the window: not STOP."""
    samples = [
        Sample(0.0, 5, 50, assigned=True),
        Sample(10.0, 5, 60, assigned=False),
    ]
    assert evaluate(samples) is Status.STALL


def test_lag_zero_within_the_window_is_ok() -> None:
    """A group that caught up during the window is OK even if messages just arrived."""
    assert evaluate(window((10, 10), (10, 15))) is Status.OK


def test_rewind() -> None:
    """The committed offset went backwards between two samples: REWIND."""
    assert evaluate(window((50, 60), (20, 61), (25, 62))) is Status.REWIND


def test_stall() -> None:
    """A member holds the partition, lag stays positive and the offset does not move: STALL."""
    assert evaluate(window((7, 20), (7, 20))) is Status.STALL
    assert evaluate(window((7, 20), (7, 25), (7, 30))) is Status.STALL


def test_one_sample_with_a_member_is_not_judged_stalled() -> None:
    """Stalling needs movement to compare: one sample with a member is OK."""
    assert evaluate(window((7, 20))) is Status.OK


def test_falling_behind_warns() -> None:
    """Offsets move but the lag never shrinks and ends larger: WARN."""
    assert evaluate(window((10, 20), (15, 30), (20, 40))) is Status.WARN
    assert evaluate(window((10, 20), (15, 25), (20, 40))) is Status.WARN


def test_level_lag_does_not_warn() -> None:
    """A backlog worked at the arrival rate is not falling behind (Burrow would warn)."""
    assert evaluate(window((10, 20), (20, 30), (30, 40))) is Status.OK


def test_one_shrinking_step_clears_the_warning() -> None:
    """Lag that shrank between any two samples is not 'growing across the window'."""
    assert evaluate(window((10, 20), (25, 30), (30, 45))) is Status.OK


def test_committed_past_log_end_is_no_lag() -> None:
    """A committed offset beyond the log end (topic recreated) counts as zero lag."""
    assert Sample(0.0, 120, 100).lag == 0
    assert evaluate([Sample(0.0, 120, 100)]) is Status.OK


def test_lag_seconds() -> None:
    """Age of the record at the committed offset while lagging; 0 caught up; None unknown."""
    assert lag_seconds(0, 100.0, 160.0) == 0.0
    assert lag_seconds(5, 100.0, 160.0) == 60.0
    assert lag_seconds(5, None, 160.0) is None
    assert lag_seconds(5, 200.0, 160.0) == 0.0  # producer clock ahead of ours


def test_group_status_is_the_worst_partition() -> None:
    """Worst by Burrow's codes; a group with no partitions is NOTFOUND."""
    assert worst([Status.OK, Status.WARN, Status.STOP, Status.OK]) is Status.STOP
    assert worst([Status.STALL, Status.REWIND]) is Status.REWIND
    assert worst([]) is Status.NOTFOUND


points = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(0, 1000), st.booleans()), min_size=1, max_size=8
)


@given(points)
def test_caught_up_newest_sample_is_always_ok(raw: list[tuple[int, int, bool]]) -> None:
    """Whatever the history, a newest sample without lag is OK."""
    samples = [Sample(float(i), c, e, assigned=a) for i, (c, e, a) in enumerate(raw)]
    samples.append(Sample(float(len(raw)), 500, 500, assigned=False))
    assert evaluate(samples) is Status.OK


@given(points)
def test_a_member_holding_the_partition_is_never_stopped(raw: list[tuple[int, int, bool]]) -> None:
    """STOP means nobody is there: never reported while the newest sample has a member."""
    samples = [Sample(float(i), c, e, assigned=a) for i, (c, e, a) in enumerate(raw)]
    samples[-1] = Sample(samples[-1].time, samples[-1].committed, samples[-1].log_end, None, True)
    assert evaluate(samples) is not Status.STOP


@given(points)
def test_forward_only_offsets_never_rewind(raw: list[tuple[int, int, bool]]) -> None:
    """REWIND needs a committed offset that went backwards."""
    offsets = sorted(c for c, _, _ in raw)
    samples = [
        Sample(float(i), c, e, assigned=a)
        for i, (c, (_, e, a)) in enumerate(zip(offsets, raw, strict=True))
    ]
    assert evaluate(samples) is not Status.REWIND
