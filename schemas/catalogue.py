"""The topic catalogue: every topic the pipeline owns, its key and its configuration.

`switchboard topics apply` makes the broker match this file; nothing else creates topics
(the broker runs with ``auto.create.topics.enable=false``). Faust's own changelog and
repartition topics are named after the worker group and managed by Faust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from schemas.events import (
    ConsentChanged,
    ContactIdentityChanged,
    ConversationErased,
    ConversationStatusChanged,
    DataRequested,
    ErasureRequested,
    Event,
    ExportRequested,
    HandoffRequested,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    MessageStatusChanged,
    ReplyRequested,
)

HOUR_MS = 60 * 60 * 1000
DAY_MS = 24 * HOUR_MS

# How long plaintext personal data may sit on a landing topic before Kafka deletes it:
# the documented bound on how long plaintext can outlive a deletion.
RAW_RETENTION_MS = 24 * HOUR_MS


# Topics that carry unsealed personal data: deleted within the bound above, in hour-long
# segments so that deletion happens close to the bound.
_PLAINTEXT = {
    "cleanup.policy": "delete",
    "retention.ms": str(RAW_RETENTION_MS),
    "segment.ms": str(HOUR_MS),
    "min.insync.replicas": "1",
}


@dataclass(frozen=True)
class Topic:
    """One topic: ``name`` is unprefixed; the deployment's prefix is added by ``full_name``."""

    name: str
    key: Literal["conversation", "contact"]
    partitions: int
    description: str
    config: dict[str, str] = field(default_factory=dict)

    def full_name(self, prefix: str) -> str:
        return f"{prefix}{self.name}"


INBOUND = Topic(
    name="inbound.v1",
    key="conversation",
    partitions=6,
    description="Raw landing topic for conversation events from every provider; plaintext, "
    "so retention is short.",
    config=dict(_PLAINTEXT),
)

CONTACT_EVENTS = Topic(
    name="contact-events.v1",
    key="contact",
    partitions=6,
    description="Raw landing topic for consent and identity changes reported by providers; "
    "plaintext, so retention is short.",
    config=dict(_PLAINTEXT),
)

ACTIONS = Topic(
    name="actions.v1",
    key="conversation",
    partitions=6,
    description="What the conversation flow decided (replies, hand-offs), for the outbound "
    "sinks; carries reply text and recipients, so retention is as short as the landing topics'.",
    config=dict(_PLAINTEXT),
)

DEAD_LETTER = Topic(
    name="dead-letter.v1",
    key="conversation",
    partitions=1,
    description="Records a worker could not process, with the reason in headers, for "
    "inspection and replay.",
    config={
        "cleanup.policy": "delete",
        "retention.ms": str(7 * DAY_MS),
        "segment.ms": str(DAY_MS),
    },
)

# Compacted topics keyed by contact id. A tombstone must be physically gone within
# COMPACTION_BOUND_MS: segments roll at least hourly and the cleaner must compact a dirty
# segment within max.compaction.lag.ms; tombstones themselves stay delete.retention.ms so
# that a replay in progress sees the deletion.
COMPACTION_BOUND_MS = 2 * HOUR_MS
_COMPACTED = {
    "cleanup.policy": "compact",
    "segment.ms": str(HOUR_MS),
    "max.compaction.lag.ms": str(HOUR_MS),
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": str(DAY_MS),
}

DATA_KEYS = Topic(
    name="data-keys.v1",
    key="contact",
    partitions=6,
    description="Each contact's data key, wrapped by the master key. Tombstoning a contact's "
    "record makes every sealed copy of its personal data unreadable.",
    config=dict(_COMPACTED),
)

ERASURES = Topic(
    name="erasures.v1",
    key="contact",
    partitions=6,
    description="Contacts that were forgotten (pseudonymous id, time, reason code), so that "
    "replays and new consumers skip them. Never tombstoned: it is the proof.",
    config={**_COMPACTED, "delete.retention.ms": str(DAY_MS)},
)

CATALOGUE: tuple[Topic, ...] = (INBOUND, CONTACT_EVENTS, ACTIONS, DEAD_LETTER, DATA_KEYS, ERASURES)

_ROUTES: dict[type, Topic] = {
    MessageReceived: INBOUND,
    MessageEdited: INBOUND,
    MessageRevoked: INBOUND,
    MessageStatusChanged: INBOUND,
    ConversationStatusChanged: INBOUND,
    ContactIdentityChanged: CONTACT_EVENTS,
    ConsentChanged: CONTACT_EVENTS,
    DataRequested: CONTACT_EVENTS,
    ErasureRequested: CONTACT_EVENTS,
    ExportRequested: CONTACT_EVENTS,
    ConversationErased: INBOUND,
    ReplyRequested: ACTIONS,
    HandoffRequested: ACTIONS,
}


def topic_for(event: Event) -> Topic:
    """Where an event lands when it enters the log."""
    return _ROUTES[type(event)]
