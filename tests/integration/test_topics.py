"""`topics apply` against the real broker: creates, aligns, and is idempotent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.catalogue import CATALOGUE, INBOUND, KEYED, sized
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
    # A new topic's partitions reach the broker's metadata a moment after it is created.
    wanted = [t.partitions for t in CATALOGUE]
    described = await eventually(lambda: _described_with(servers, prefix, wanted))
    assert described, await topics.describe(servers, prefix)
    assert all(row["present"] and row["config"] == row["wanted_config"] for row in described)


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


async def test_the_keyed_topics_take_their_partition_count_from_settings(
    endpoints: stack.Endpoints,
) -> None:
    """SWITCHBOARD_TOPIC_PARTITIONS=3 makes every keyed topic with 3 partitions (the dead
    letters keep one); a worker configured for 6 on those topics refuses to start."""
    servers, prefix = endpoints.kafka_bootstrap_servers, f"sized-{uuid.uuid4().hex[:8]}."
    await topics.apply(servers, prefix, 1, sized(3))
    described = {
        row["name"]: row["actual_partitions"] for row in await topics.describe(servers, prefix)
    }
    assert described == {t.full_name(prefix): 3 if t in KEYED else 1 for t in CATALOGUE}
    await topics.check_partitions(servers, prefix, sized(3))
    with pytest.raises(topics.PartitionsMismatchError, match="SWITCHBOARD_TOPIC_PARTITIONS"):
        await topics.check_partitions(servers, prefix, sized(6))


async def _described_with(servers: str, prefix: str, partitions: list[int]) -> list[Any]:
    """The catalogue's rows once every topic shows ``partitions``, else nothing."""
    rows = await topics.describe(servers, prefix)
    return rows if [row["actual_partitions"] for row in rows] == partitions else []
