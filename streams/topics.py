"""Making the broker match the topic catalogue (`switchboard topics apply|describe`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from schemas.catalogue import CATALOGUE, Topic
from schemas.topic_plan import Action, AlterConfig, Create, ExistingTopic, PartitionDrift, plan


class TopicAdminError(Exception):
    pass


def _check(error_code: int, what: str) -> None:
    if error_code:
        error = for_code(error_code)
        if error is TopicAlreadyExistsError:
            return
        raise TopicAdminError(f"{what}: {error.__name__}")


async def _existing(admin: AIOKafkaAdminClient, names: Sequence[str]) -> dict[str, ExistingTopic]:
    present = set(await admin.list_topics()) & set(names)
    if not present:
        return {}
    partitions = {
        t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(sorted(present))
    }
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in sorted(present)]
    )
    result = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            _check(resource["error_code"], f"describe {resource['resource_name']}")
            config = {c["config_names"]: c["config_value"] for c in resource["config_entries"]}
            name = resource["resource_name"]
            result[name] = ExistingTopic(partitions[name], config)
    return result


async def _execute(admin: AIOKafkaAdminClient, actions: Sequence[Action], replication: int) -> None:
    creates = [a for a in actions if isinstance(a, Create)]
    if creates:
        response = await admin.create_topics(
            [
                NewTopic(a.name, a.topic.partitions, replication, topic_configs=a.topic.config)
                for a in creates
            ]
        )
        for name, code, *_ in response.topic_errors:
            _check(code, f"create {name}")
    alters = [a for a in actions if isinstance(a, AlterConfig)]
    if alters:
        # AlterConfigs replaces a topic's whole set of overrides: the catalogue owns them.
        responses = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, a.name, dict(a.topic.config)) for a in alters]
        )
        for response in responses:
            for resource in response.to_object()["resources"]:
                _check(resource["error_code"], f"alter {resource['resource_name']}")


async def apply(
    bootstrap_servers: str,
    prefix: str,
    replication: int,
    catalogue: Sequence[Topic] = CATALOGUE,
) -> list[Action]:
    """Create missing topics and align configs; idempotent. Returns what it did or found."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        names = [t.full_name(prefix) for t in catalogue]
        actions = plan(catalogue, prefix, await _existing(admin, names))
        await _execute(admin, actions, replication)
        return actions
    finally:
        await admin.close()


async def _catalogued(
    bootstrap_servers: str, prefix: str, catalogue: Sequence[Topic]
) -> dict[str, ExistingTopic]:
    """The catalogue's topics that exist, with their partitions and config overrides."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        return await _existing(admin, [t.full_name(prefix) for t in catalogue])
    finally:
        await admin.close()


async def describe(
    bootstrap_servers: str, prefix: str, catalogue: Sequence[Topic] = CATALOGUE
) -> list[dict[str, Any]]:
    existing = await _catalogued(bootstrap_servers, prefix, catalogue)
    rows = []
    for topic in catalogue:
        name = topic.full_name(prefix)
        current = existing.get(name)
        rows.append(
            {
                "name": name,
                "key": topic.key,
                "partitions": topic.partitions,
                "present": current is not None,
                "actual_partitions": current.partitions if current else None,
                "config": {
                    key: (current.config.get(key) if current else None) for key in topic.config
                },
                "wanted_config": dict(topic.config),
                "description": topic.description,
            }
        )
    return rows


class PartitionsMismatchError(TopicAdminError):
    """A keyed topic's partition count is not the configured one: its tables would not
    follow its partitions, and a conversation's state would be read on the wrong worker."""


async def check_partitions(bootstrap_servers: str, prefix: str, catalogue: Sequence[Topic]) -> None:
    """Raise PartitionsMismatchError if a topic that exists has another partition count
    than ``catalogue`` (sized from Settings) gives it; missing topics are not checked."""
    existing = await _catalogued(bootstrap_servers, prefix, catalogue)
    drifts = [a for a in plan(catalogue, prefix, existing) if isinstance(a, PartitionDrift)]
    if drifts:
        raise PartitionsMismatchError("; ".join(describe_action(d) for d in drifts))


def describe_action(action: Action) -> str:
    if isinstance(action, Create):
        return f"created {action.name} ({action.topic.partitions} partitions)"
    if isinstance(action, AlterConfig):
        changed = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in action.changes.items())
        return f"aligned {action.name}: {changed}"
    if not isinstance(action, PartitionDrift):
        raise TypeError(action)
    return (
        f"WARNING {action.name} has {action.current} partitions, the catalogue says "
        f"{action.topic.partitions} (SWITCHBOARD_TOPIC_PARTITIONS); change it deliberately: "
        "a new topic version and a cut-over (docs/operations.md), since it re-maps keys"
    )
