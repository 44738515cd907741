"""Windows of samples per partition, fed with snapshots, giving lag rows with a status.

The CLI's `--watch`, the lag monitor and the health endpoint all keep one of these; each
snapshot added extends the windows and returns a report of the newest state.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from lag.evaluate import Sample, Status, evaluate, lag_seconds, worst
from lag.model import GroupOffsets, PartitionOffsets, Snapshot

Key = tuple[str, str, int]  # group, topic, partition


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None
    log_end: int
    lag: int | None
    lag_seconds: float | None
    status: Status
    consumer_id: str | None
    host: str | None
    client_id: str | None


@dataclass(frozen=True)
class GroupLag:
    group: str
    state: str
    members: int
    assigned_partitions: int
    status: Status
    lag: int
    lag_seconds: float | None  # the worst partition's; None if unknown everywhere lagging
    partitions: tuple[PartitionLag, ...]


@dataclass(frozen=True)
class Report:
    time: float
    groups: tuple[GroupLag, ...]

    def rows(self) -> list[PartitionLag]:
        return [row for group in self.groups for row in group.partitions]


class LagTracker:
    def __init__(
        self, *, window_seconds: float = 300.0, max_samples: int = 60, stop_after: float = 0.0
    ) -> None:
        self.window_seconds = window_seconds
        self.max_samples = max_samples
        self.stop_after = stop_after
        self._windows: dict[Key, deque[Sample]] = {}

    def window(self, group: str, topic: str, partition: int) -> tuple[Sample, ...]:
        return tuple(self._windows.get((group, topic, partition), ()))

    def add(self, snapshot: Snapshot) -> Report:
        seen: set[Key] = set()
        groups = []
        for group in snapshot.groups:
            rows = tuple(self._partition(snapshot.time, group, p, seen) for p in group.partitions)
            groups.append(_summary(group, rows))
        # Partitions no longer reported (a deleted group or topic) drop out of the windows.
        for key in set(self._windows) - seen:
            del self._windows[key]
        return Report(snapshot.time, tuple(groups))

    def _partition(
        self, now: float, group: GroupOffsets, offsets: PartitionOffsets, seen: set[Key]
    ) -> PartitionLag:
        holder = group.holder(offsets.topic, offsets.partition)
        lag: int | None = None
        seconds: float | None = None
        status = Status.OK
        if offsets.committed is not None:
            key = (group.group, offsets.topic, offsets.partition)
            seen.add(key)
            lag = max(0, offsets.log_end - offsets.committed)
            seconds = lag_seconds(lag, offsets.record_timestamp, now)
            sample = Sample(now, offsets.committed, offsets.log_end, seconds, holder is not None)
            status = evaluate(self._extend(key, sample), stop_after=self.stop_after)
        return PartitionLag(
            group=group.group,
            topic=offsets.topic,
            partition=offsets.partition,
            committed=offsets.committed,
            log_end=offsets.log_end,
            lag=lag,
            lag_seconds=seconds,
            status=status,
            consumer_id=holder.member_id if holder else None,
            host=holder.host if holder else None,
            client_id=holder.client_id if holder else None,
        )

    def _extend(self, key: Key, sample: Sample) -> tuple[Sample, ...]:
        window = self._windows.setdefault(key, deque(maxlen=self.max_samples))
        window.append(sample)
        while window and window[0].time < sample.time - self.window_seconds:
            window.popleft()
        return tuple(window)


def _summary(group: GroupOffsets, rows: tuple[PartitionLag, ...]) -> GroupLag:
    known = [row.lag_seconds for row in rows if row.lag_seconds is not None]
    return GroupLag(
        group=group.group,
        state=group.state,
        members=len(group.members),
        assigned_partitions=sum(len(m.assignment) for m in group.members),
        status=worst(row.status for row in rows if row.committed is not None),
        lag=sum(row.lag or 0 for row in rows),
        lag_seconds=max(known) if known else None,
        partitions=rows,
    )
