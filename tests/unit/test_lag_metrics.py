"""The lag gauges: conventional names, safe labels, Burrow's codes, no stale series."""

from __future__ import annotations

from prometheus_client import generate_latest

from lag.metrics import LagMetrics
from lag.model import GroupOffsets, PartitionOffsets, Snapshot
from lag.tracker import LagTracker


def _value(metrics: LagMetrics, name: str, partition: str) -> float | None:
    return metrics.registry.get_sample_value(
        name, {"group": "g", "topic": "in", "partition": partition}
    )


def test_gauges_follow_the_report() -> None:
    """Messages, seconds and the status code per partition, labelled group/topic/partition."""
    metrics = LagMetrics()
    partitions = (PartitionOffsets("in", 0, 10, 1010, 100.0), PartitionOffsets("in", 1, 3, 3))
    metrics.update(LagTracker().add(Snapshot(160.0, (GroupOffsets("g", "Empty", (), partitions),))))
    assert _value(metrics, "switchboard_consumergroup_lag_messages", "0") == 1000
    assert _value(metrics, "switchboard_consumergroup_lag_seconds", "0") == 60.0
    assert _value(metrics, "switchboard_consumergroup_status", "0") == 4  # STOP
    assert _value(metrics, "switchboard_consumergroup_status", "1") == 1  # OK
    text = generate_latest(metrics.registry).decode()
    labels = {
        line[line.index("{") + 1 : line.index("}")]
        for line in text.splitlines()
        if line.startswith("switchboard_consumergroup_")
    }
    assert {key.split("=")[0] for label in labels for key in label.split(",")} == {
        "group",
        "topic",
        "partition",
    }


def test_partitions_no_longer_reported_lose_their_series() -> None:
    """A deleted group's partitions disappear instead of freezing at their last value."""
    metrics = LagMetrics()
    tracker = LagTracker()
    group = GroupOffsets("g", "Empty", (), (PartitionOffsets("in", 0, 1, 2, 0.0),))
    metrics.update(tracker.add(Snapshot(10.0, (group,))))
    metrics.update(tracker.add(Snapshot(20.0, ())))
    assert _value(metrics, "switchboard_consumergroup_lag_messages", "0") is None
    assert _value(metrics, "switchboard_consumergroup_status", "0") is None
