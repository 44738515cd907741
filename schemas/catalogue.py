"""The topic catalogue: every topic the pipeline owns, its key and its configuration.

`switchboard topics apply` makes the broker match this file; nothing else creates topics
(the broker runs with ``auto.create.topics.enable=false``). Faust's own changelog and
repartition topics are named after the worker group and managed by Faust.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from schemas.events import (
    ConsentChanged,
    ContactIdentityChanged,
    ConversationErased,
    ConversationStatusChanged,
    DataRequestClosed,
    DataRequested,
    DataRequestOpened,
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

# How long the event topics keep history for replays. Their personal data is sealed with
# per-contact data keys before it is produced (ingest and the worker), so what outlives a
# deletion here is ciphertext whose key is gone: retention is about replays, not privacy.
# No topic holds plaintext personal data.
SEALED_RETENTION_MS = 7 * DAY_MS

_SEALED = {
    "cleanup.policy": "delete",
    "retention.ms": str(SEALED_RETENTION_MS),
    "segment.ms": str(6 * HOUR_MS),
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
    description="Conversation events from every provider, personal data sealed with the "
    "contact's data key; kept 7 days for replays.",
    config=dict(_SEALED),
)

CONTACT_EVENTS = Topic(
    name="contact-events.v1",
    key="contact",
    partitions=6,
    description="Consent, identity, erasure and export events per contact, personal data "
    "sealed with the contact's data key; kept 7 days for replays.",
    config=dict(_SEALED),
)

ACTIONS = Topic(
    name="actions.v1",
    key="conversation",
    partitions=6,
    description="What the conversation flow decided (replies, hand-offs, data requests made "
    "in the chat), for the outbound sinks; reply text and recipients sealed with the "
    "contact's data key; kept 7 days.",
    config=dict(_SEALED),
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

# Compacted topics keyed by contact id. A tombstoned value must be physically gone within
# COMPACTION_BOUND_MS. Kafka never cleans the active segment and rolls one only when a record
# arrives after segment.ms, so the worker appends a roll marker (ROLL_KEY, no value) to every
# partition of data-keys.v1 each ROLL_INTERVAL_MS: a segment holding a tombstone is closed
# within segment.ms + ROLL_INTERVAL_MS, and the cleaner must compact it within
# max.compaction.lag.ms. Tombstones themselves stay delete.retention.ms so that a replay in
# progress sees the deletion.
ROLL_INTERVAL_MS = HOUR_MS // 2
ROLL_KEY = b"~segment-roll"
COMPACTION_BOUND_MS = HOUR_MS + ROLL_INTERVAL_MS + HOUR_MS
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

# The topics whose partition count places conversations and contacts on workers (the dead
# letters keep one partition: their order is the order things went wrong).
KEYED: tuple[Topic, ...] = (INBOUND, CONTACT_EVENTS, ACTIONS, DATA_KEYS, ERASURES)


def sized(partitions: int) -> tuple[Topic, ...]:
    """The catalogue with ``partitions`` (SWITCHBOARD_TOPIC_PARTITIONS) for every keyed
    topic. Kafka can add partitions to a topic, but that moves keys between partitions
    mid-stream: a deployment grows by a new topic version and a cut-over instead."""
    return tuple(replace(t, partitions=partitions) if t in KEYED else t for t in CATALOGUE)


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
    DataRequestOpened: ACTIONS,
    DataRequestClosed: ACTIONS,
}


def topic_for(event: Event) -> Topic:
    """Where an event lands when it enters the log."""
    return _ROUTES[type(event)]
