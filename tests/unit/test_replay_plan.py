"""Replay requests, per-partition ranges from the broker's answers, and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.catalogue import ACTIONS, INBOUND
from streams.replay.plan import (
    LogBounds,
    ReplayRefusedError,
    ReplayRequest,
    build_request,
    make_plan,
    parse_utc,
    refusal,
    resolve_topic,
)

PREFIX = "sb."
WORKER = "switchboard-worker"


def request(**overrides: Any) -> ReplayRequest:
    args: dict[str, Any] = {
        "topic": "inbound.v1",
        "prefix": PREFIX,
        "worker_group": WORKER,
        "from_time": "2026-11-26T10:00:00Z",
    }
    args.update(overrides)
    return build_request(**args)


# hypothesis takes naive bounds and adds the time zones itself.
EARLIEST = datetime(1971, 1, 1)  # noqa: DTZ001
LATEST = datetime(9998, 12, 31)  # noqa: DTZ001

aware = st.datetimes(
    min_value=EARLIEST,
    max_value=LATEST,
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)


@given(aware)
def test_aware_iso_times_round_trip(moment: datetime) -> None:
    """Any ISO time with an offset parses to the same instant."""
    assert parse_utc(moment.isoformat()) == moment


@given(st.datetimes(min_value=EARLIEST, max_value=LATEST))
def test_times_without_an_offset_are_refused(moment: datetime) -> None:
    """A naive time is refused with a message that says how to write it."""
    with pytest.raises(ReplayRefusedError, match="no UTC offset"):
        parse_utc(moment.isoformat())


@given(st.text(max_size=40))
def test_parsing_never_fails_otherwise(text: str) -> None:
    """Arbitrary text either parses to an aware time or is refused; nothing else escapes."""
    try:
        parsed = parse_utc(text)
    except ReplayRefusedError:
        return
    assert parsed.utcoffset() is not None


def test_z_suffix_is_utc() -> None:
    """`Z` is UTC."""
    assert parse_utc("2026-11-26T10:00:00Z") == datetime(2026, 11, 26, 10, tzinfo=UTC)


def test_date_alone_is_refused() -> None:
    """A date has no clock either."""
    with pytest.raises(ReplayRefusedError, match="no UTC offset"):
        parse_utc("2026-11-26")


def test_topics_by_catalogue_or_full_name() -> None:
    """Topics are named with or without the prefix; anything else is refused."""
    assert resolve_topic("inbound.v1", PREFIX) is INBOUND
    assert resolve_topic("sb.actions.v1", PREFIX) is ACTIONS
    with pytest.raises(ReplayRefusedError, match="not a topic of the catalogue"):
        resolve_topic("other.v1", PREFIX)


def test_exactly_one_start() -> None:
    """Both starts, or none, are refused; a negative offset too."""
    with pytest.raises(ReplayRefusedError, match="exactly one"):
        request(from_offset=3)
    with pytest.raises(ReplayRefusedError, match="exactly one"):
        request(from_time=None)
    with pytest.raises(ReplayRefusedError, match="0 or more"):
        request(from_time=None, from_offset=-1)


def test_end_before_start_is_refused() -> None:
    """An empty or backwards time range is refused."""
    with pytest.raises(ReplayRefusedError, match="later than"):
        request(to_time="2026-11-26T09:00:00Z")


def test_defaults() -> None:
    """Offsets mode on the worker's group, with the prefixed topic name."""
    made = request()
    assert made.mode == "offsets"
    assert made.group == WORKER
    assert made.full_topic == "sb.inbound.v1"


def test_republish_only_topics_the_worker_reads() -> None:
    """Re-publishing dead letters or compacted key topics makes no sense; a group neither."""
    with pytest.raises(ReplayRefusedError, match="worker reads"):
        request(topic="erasures.v1", republish=True)
    with pytest.raises(ReplayRefusedError, match="moves none"):
        request(republish=True, group="g")


def bounds(**kwargs: Any) -> LogBounds:
    values: dict[str, Any] = {"beginning": 0, "end": 100}
    values.update(kwargs)
    return LogBounds(**values)


def test_ranges_by_time() -> None:
    """From the first record at the start time to the first at the end time, per partition;
    a partition with nothing that late starts (and ends) at its log end."""
    made = request(to_time="2026-11-26T11:00:00Z")
    plan = make_plan(
        made,
        {
            1: bounds(at_start_time=40, at_end_time=70),
            0: bounds(at_start_time=10, at_end_time=None),
            2: bounds(at_start_time=None, at_end_time=None),
        },
    )
    assert [(p.partition, p.start, p.end, p.count) for p in plan.partitions] == [
        (0, 10, 100, 90),
        (1, 40, 70, 30),
        (2, 100, 100, 0),
    ]
    assert plan.total == 120


def test_offsets_are_clamped_into_the_log() -> None:
    """An offset before the retained log starts at its beginning; past the end, at the end."""
    low = make_plan(request(from_time=None, from_offset=5), {0: bounds(beginning=20)})
    high = make_plan(request(from_time=None, from_offset=500), {0: bounds()})
    assert (low.partitions[0].start, low.partitions[0].count) == (20, 80)
    assert (high.partitions[0].start, high.partitions[0].count) == (100, 0)


def test_end_never_before_start() -> None:
    """An end time whose offset precedes the start offset gives an empty range."""
    made = request(from_time=None, from_offset=50, to_time="2026-11-26T11:00:00Z")
    plan = make_plan(made, {0: bounds(at_end_time=30)})
    assert plan.partitions[0].count == 0


@given(
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.one_of(st.none(), st.integers(0, 2000)),
    st.one_of(st.none(), st.integers(0, 2000)),
)
def test_ranges_stay_inside_the_log(
    beginning: int, length: int, at_start: int | None, at_end: int | None
) -> None:
    """Whatever the broker answers, a range lies within [beginning, end] and is not negative."""
    log = LogBounds(beginning, beginning + length, at_start, at_end)
    made = request(to_time="2026-11-26T11:00:00Z")
    part = make_plan(made, {0: log}).partitions[0]
    assert beginning <= part.start <= part.end <= beginning + length


def test_group_with_members_is_refused_by_name_and_count() -> None:
    """The refusal names the group and how many members it has."""
    reason = refusal(request(group="analytics"), 2, worker_group=WORKER)
    assert reason is not None
    assert "'analytics'" in reason
    assert "2 active members" in reason


def test_empty_group_may_move() -> None:
    """A group without members (or unknown to the broker) may be moved or seeded."""
    assert refusal(request(group="analytics"), 0, worker_group=WORKER) is None


def test_republish_moves_no_group() -> None:
    """Re-publishing is never refused for members: it commits nothing."""
    assert refusal(request(republish=True), 3, worker_group=WORKER) is None


def test_worker_group_back_on_actions_needs_resend() -> None:
    """Moving the worker back on actions.v1 would resend undelivered actions: only with
    --resend."""
    back = request(topic="actions.v1")
    assert "--resend" in (refusal(back, 0, worker_group=WORKER) or "")
    confirmed = request(topic="actions.v1", resend=True)
    assert refusal(confirmed, 0, worker_group=WORKER) is None
    other = request(topic="actions.v1", group="analytics")
    assert refusal(other, 0, worker_group=WORKER) is None
