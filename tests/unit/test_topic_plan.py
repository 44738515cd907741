"""Planning `topics apply`: create what is missing, align configs, never re-partition."""

from __future__ import annotations

from ingest.normalise.whatsapp import normalise
from schemas.catalogue import (
    ACTIONS,
    CATALOGUE,
    CONTACT_EVENTS,
    INBOUND,
    SEALED_RETENTION_MS,
    topic_for,
)
from schemas.keys import Pseudonymizer
from schemas.topic_plan import AlterConfig, Create, ExistingTopic, PartitionDrift, plan


def test_missing_topics_are_created() -> None:
    """On an empty broker every catalogue topic is created."""
    actions = plan(CATALOGUE, "p.", {})
    assert [a.name for a in actions if isinstance(a, Create)] == [f"p.{t.name}" for t in CATALOGUE]


def test_matching_topics_need_nothing() -> None:
    """Applying twice is a no-op."""
    existing = {t.full_name("p."): ExistingTopic(t.partitions, dict(t.config)) for t in CATALOGUE}
    assert plan(CATALOGUE, "p.", existing) == []


def test_drifted_config_is_aligned() -> None:
    """A changed retention is brought back in line, and the change is reported."""
    existing = {t.full_name("p."): ExistingTopic(t.partitions, dict(t.config)) for t in CATALOGUE}
    existing["p.inbound.v1"] = ExistingTopic(
        INBOUND.partitions, {**INBOUND.config, "retention.ms": "1"}
    )
    (action,) = plan(CATALOGUE, "p.", existing)
    assert isinstance(action, AlterConfig)
    assert action.changes == {"retention.ms": ("1", str(SEALED_RETENTION_MS))}


def test_partition_drift_is_reported_not_changed() -> None:
    """Different partition counts are flagged for a deliberate decision."""
    existing = {t.full_name("p."): ExistingTopic(t.partitions, dict(t.config)) for t in CATALOGUE}
    existing["p.inbound.v1"] = ExistingTopic(3, dict(INBOUND.config))
    (action,) = plan(CATALOGUE, "p.", existing)
    assert isinstance(action, PartitionDrift)
    assert action.current == 3


def test_sealed_event_topics_keep_a_week_of_history_for_replays() -> None:
    """The event topics hold only sealed personal data, so they keep 7 days for replays."""
    for topic in (INBOUND, CONTACT_EVENTS, ACTIONS):
        assert int(topic.config["retention.ms"]) == 7 * 24 * 60 * 60 * 1000
        assert topic.config["cleanup.policy"] == "delete"
        assert "sealed" in topic.description


def test_events_are_routed_by_key_kind(whatsapp_fixtures: dict[tuple[str, str], object]) -> None:
    """Conversation events go to conversation-keyed topics, contact events to contact-keyed ones."""
    keys = Pseudonymizer(b"pepper")
    for body in whatsapp_fixtures.values():
        for event in normalise(body, source="whatsapp-cloud", keys=keys, correlation_id="c").events:
            expected = "contact" if event.subject.startswith("ct_") else "conversation"
            assert topic_for(event).key == expected
