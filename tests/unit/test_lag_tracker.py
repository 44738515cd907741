"""Lag windows fed with snapshots, and the reports they give."""

from __future__ import annotations

import json

from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from lag.evaluate import Status
from lag.model import GroupOffsets, Member, PartitionOffsets, Snapshot
from lag.offsets import decode_members, select_groups
from lag.report import COLUMNS, render_table, report_json
from lag.tracker import LagTracker

MEMBER = Member("consumer-1-abc", "consumer-1", "/10.0.0.5", (("t.inbound.v1", 0),))


def snapshot(time: float, committed: int | None, log_end: int, *, members: bool) -> Snapshot:
    partitions = (
        PartitionOffsets("t.inbound.v1", 0, committed, log_end, record_timestamp=time - 42.0),
        PartitionOffsets("t.inbound.v1", 1, 5, 5),
    )
    group = GroupOffsets(
        "g", "Stable" if members else "Empty", (MEMBER,) if members else (), partitions
    )
    return Snapshot(time, (group,))


def test_rows_carry_lag_seconds_holder_and_status() -> None:
    """Lag in messages and seconds, the member holding the partition, and a status per row."""
    report = LagTracker().add(snapshot(1000.0, 10, 110, members=True))
    first, second = report.rows()
    assert (first.lag, first.lag_seconds, first.consumer_id, first.status) == (
        100,
        42.0,
        "consumer-1-abc",
        Status.OK,
    )
    assert (second.lag, second.lag_seconds, second.consumer_id) == (0, 0.0, None)
    group = report.groups[0]
    assert (group.members, group.assigned_partitions, group.lag, group.lag_seconds) == (
        1,
        1,
        100,
        42.0,
    )


def test_window_builds_up_across_snapshots() -> None:
    """A second snapshot with the same offset and a member present makes the partition STALL."""
    tracker = LagTracker()
    tracker.add(snapshot(1000.0, 10, 110, members=True))
    report = tracker.add(snapshot(1005.0, 10, 120, members=True))
    assert report.rows()[0].status is Status.STALL
    assert report.groups[0].status is Status.STALL
    assert len(tracker.window("g", "t.inbound.v1", 0)) == 2


def test_stopped_group() -> None:
    """No members and messages waiting: the group is STOP."""
    report = LagTracker().add(snapshot(1000.0, 10, 1010, members=False))
    assert report.groups[0].status is Status.STOP


def test_old_samples_leave_the_window() -> None:
    """Samples older than the window are dropped, and so is a partition no longer reported."""
    tracker = LagTracker(window_seconds=60.0)
    tracker.add(snapshot(1000.0, 10, 110, members=True))
    tracker.add(snapshot(1100.0, 20, 110, members=True))
    assert [s.time for s in tracker.window("g", "t.inbound.v1", 0)] == [1100.0]
    tracker.add(Snapshot(1200.0, ()))
    assert tracker.window("g", "t.inbound.v1", 0) == ()


def test_uncommitted_assigned_partition_has_no_lag_or_status() -> None:
    """Like kafka-consumer-groups: an assigned partition without a commit shows dashes."""
    report = LagTracker().add(snapshot(1000.0, None, 50, members=True))
    row = report.rows()[0]
    assert (row.committed, row.lag, row.lag_seconds) == (None, None, None)
    assert report_json(report)["groups"][0]["partitions"][0]["status"] is None
    assert "-" in render_table(report).splitlines()[2].split()


def test_table_has_kafka_consumer_groups_columns_plus_seconds_and_status() -> None:
    """The header and a row line up with kafka-consumer-groups --describe, plus two columns."""
    table = render_table(LagTracker().add(snapshot(1000.0, 10, 110, members=True)))
    lines = table.splitlines()
    assert lines[0].startswith("Consumer group 'g': OK")
    assert lines[1].split() == list(COLUMNS)
    assert lines[2].split() == [
        "g",
        "t.inbound.v1",
        "0",
        "10",
        "110",
        "100",
        "42.0",
        "OK",
        "consumer-1-abc",
        "/10.0.0.5",
        "consumer-1",
    ]


def test_json_report_is_serialisable() -> None:
    """--json output: groups with their partitions, statuses by name."""
    body = report_json(LagTracker().add(snapshot(1000.0, 10, 110, members=False)))
    decoded = json.loads(json.dumps(body))
    group = decoded["groups"][0]
    assert group["status"] == "STOP"
    assert group["partitions"][0]["lag"] == 100
    assert group["partitions"][0]["lag_seconds"] == 42.0


def test_pipeline_groups_are_chosen_by_prefix_plus_named_ones() -> None:
    """Groups named after the worker group, and any named explicitly; nothing else."""
    listed = ["sw-worker", "sw-worker-replay-1", "other", "sw"]
    assert select_groups(listed, "sw-worker", ["other"]) == [
        "other",
        "sw-worker",
        "sw-worker-replay-1",
    ]
    assert select_groups(listed, "", []) == []


def test_member_assignments_are_decoded() -> None:
    """The consumer protocol's assignment bytes become (topic, partition) pairs per member."""
    assignment = ConsumerProtocolMemberAssignment(0, [("in", [2, 0]), ("out", [1])], b"")
    raw = [
        {"member_id": "b", "client_id": "c-b", "client_host": "/h", "member_assignment": b""},
        {
            "member_id": "a",
            "client_id": "c-a",
            "client_host": "/h",
            "member_assignment": assignment.encode(),
        },
    ]
    first, second = decode_members(raw)
    assert first == Member("a", "c-a", "/h", (("in", 0), ("in", 2), ("out", 1)))
    assert second.assignment == ()
