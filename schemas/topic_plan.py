"""What `switchboard topics apply` must change to make the broker match the catalogue. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemas.catalogue import Topic


@dataclass(frozen=True)
class ExistingTopic:
    partitions: int
    config: Mapping[str, str]


@dataclass(frozen=True)
class Create:
    topic: Topic
    name: str


@dataclass(frozen=True)
class AlterConfig:
    topic: Topic
    name: str
    changes: Mapping[str, tuple[str | None, str]]  # key → (current, wanted)


@dataclass(frozen=True)
class PartitionDrift:
    """Partition counts are not changed automatically: more partitions re-map keys and
    break per-conversation ordering while the change rolls out, and fewer is impossible."""

    topic: Topic
    name: str
    current: int


Action = Create | AlterConfig | PartitionDrift


def plan(
    catalogue: Sequence[Topic], prefix: str, existing: Mapping[str, ExistingTopic]
) -> list[Action]:
    actions: list[Action] = []
    for topic in catalogue:
        name = topic.full_name(prefix)
        current = existing.get(name)
        if current is None:
            actions.append(Create(topic, name))
            continue
        changes = {
            key: (current.config.get(key), wanted)
            for key, wanted in topic.config.items()
            if current.config.get(key) != wanted
        }
        if changes:
            actions.append(AlterConfig(topic, name, changes))
        if current.partitions != topic.partitions:
            actions.append(PartitionDrift(topic, name, current.partitions))
    return actions
