"""`topics apply` against the real broker: creates, aligns, and is idempotent."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.catalogue import CATALOGUE, INBOUND
from schemas.topic_plan import AlterConfig, Create
from streams import topics
from switchboard import stack
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration


async def _retention(servers: str, name: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    entries = response.to_object()["resources"][0]["config_entries"]
    return str({e["config_names"]: e["config_value"] for e in entries}.get("retention.ms"))


async def test_apply_creates_then_does_nothing(endpoints: stack.Endpoints) -> None:
    """The first apply creates every topic with its config; the second changes nothing."""
    servers, prefix = endpoints.kafka_bootstrap_servers, f"topics-{uuid.uuid4().hex[:8]}."
    first = await topics.apply(servers, prefix, 1)
    assert {a.name for a in first if isinstance(a, Create)} == {
        t.full_name(prefix) for t in CATALOGUE
    }
    assert await topics.apply(servers, prefix, 1) == []
    described = await topics.describe(servers, prefix)
    assert all(row["present"] and row["config"] == row["wanted_config"] for row in described)
    assert [row["actual_partitions"] for row in described] == [t.partitions for t in CATALOGUE]


async def test_apply_brings_drifted_config_back(endpoints: stack.Endpoints) -> None:
    """A topic whose retention was changed by hand is aligned with the catalogue again."""
    servers, prefix = endpoints.kafka_bootstrap_servers, f"drift-{uuid.uuid4().hex[:8]}."
    await topics.apply(servers, prefix, 1)
    name = INBOUND.full_name(prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, name, {**INBOUND.config, "retention.ms": "1000"}
                )
            ]
        )
    finally:
        await admin.close()
    # Config changes reach the broker's metadata cache asynchronously.
    assert await eventually(lambda: _is_retention(servers, name, "1000"))
    actions = await topics.apply(servers, prefix, 1)
    assert [type(a) for a in actions] == [AlterConfig]
    assert await eventually(lambda: _is_retention(servers, name, INBOUND.config["retention.ms"]))


async def _is_retention(servers: str, name: str, wanted: str) -> bool:
    return await _retention(servers, name) == wanted
