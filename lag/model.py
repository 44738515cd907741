"""What one look at the broker shows about the pipeline's consumer groups (plain data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    member_id: str
    client_id: str
    host: str
    assignment: tuple[tuple[str, int], ...]  # (topic, partition) pairs it holds


@dataclass(frozen=True)
class PartitionOffsets:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here (assigned only)
    log_end: int
    # Timestamp (Unix seconds) of the record at the committed offset, read only when lagging.
    record_timestamp: float | None = None


@dataclass(frozen=True)
class GroupOffsets:
    group: str
    state: str  # the coordinator's view: Stable, PreparingRebalance, Empty, Dead...
    members: tuple[Member, ...]
    partitions: tuple[PartitionOffsets, ...]

    def holder(self, topic: str, partition: int) -> Member | None:
        for member in self.members:
            if (topic, partition) in member.assignment:
                return member
        return None


@dataclass(frozen=True)
class Snapshot:
    time: float  # Unix seconds when the offsets were read
    groups: tuple[GroupOffsets, ...]
