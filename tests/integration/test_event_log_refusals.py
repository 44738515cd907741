"""When the broker refuses events for good, ingest's event log says so (500), instead of
asking the sender to retry what would be refused again (503)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from ingest.errors import LogRefused
from ingest.producer import KafkaEventLog
from schemas.catalogue import topic_for
from schemas.events import ExportRequested, ExportRequestedData
from switchboard.settings import Settings
from tests.integration.conftest import eventually, isolated

pytestmark = pytest.mark.integration


def export_requested() -> ExportRequested:
    run = uuid.uuid4().hex
    return ExportRequested(
        id=f"export:{run}",
        source="switchboard",
        time=datetime.now(UTC),
        subject=f"ct_{run}",
        correlation_id=run,
        data=ExportRequestedData(contact_id=f"ct_{run}", export_id=run, requested_by="key_t"),
    )


async def limit_records(settings: Settings, topic: str, max_bytes: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        config = {"max.message.bytes": str(max_bytes)}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, config)])
    finally:
        await admin.close()


async def first_refusal(log: KafkaEventLog) -> LogRefused | None:
    """The refusal of the first append the broker refuses, within 20 s: a topic's new
    configuration reaches the broker a moment after the change is acknowledged."""

    async def refused() -> LogRefused | None:
        try:
            await log.append([export_requested()])
        except LogRefused as refusal:
            return refusal
        return None

    found: LogRefused | None = await eventually(refused, timeout=20.0)
    return found


async def test_a_record_the_topic_refuses_for_good_is_a_500_not_a_retry(
    settings: Settings,
) -> None:
    own = await isolated(settings, "refusals")
    event = export_requested()
    topic = topic_for(event).full_name(own.switchboard_topic_prefix)
    log = KafkaEventLog(own.kafka_bootstrap_servers, own.switchboard_topic_prefix, 10)
    await log.start()
    try:
        await log.append([event])  # the broker takes it as configured
        await limit_records(own, topic, 64)  # an operator's mistake: no event fits now
        refused = await first_refusal(log)
    finally:
        await log.stop()
    assert refused is not None, "the broker took every event for 20 s"
    assert refused.status_code == 500
    assert refused.outcome == "broker_refused"
    assert "Retry-After" not in refused.headers
    assert "MessageSizeTooLarge" in refused.detail
