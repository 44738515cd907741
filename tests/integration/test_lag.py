"""`switchboard lag` against the real broker, checked against Kafka's own
kafka-consumer-groups --describe run on the same broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from switchboard.settings import Settings
from switchboard.stack.config import StackPaths
from switchboard.stack.kafka_tools import CONSUMER_GROUP_COMMAND, fetch_tools, tool_command
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration

RECORDS = (30, 20)  # per partition
COMMITTED = (12, 5)
AGE_SECONDS = 90.0  # records are stamped this long ago, so lag in seconds is clearly positive


@pytest.fixture(scope="module")
def kafka_tools() -> StackPaths:
    paths = StackPaths(ROOT / ".stack")
    fetch_tools(paths)
    return paths


@pytest.fixture
async def topic(settings: Settings) -> str:
    """A two-partition topic with RECORDS records, stamped AGE_SECONDS ago."""
    name = f"{settings.switchboard_topic_prefix}lag-{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 2, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    stamp = int((time.time() - AGE_SECONDS) * 1000)
    try:
        for partition, count in enumerate(RECORDS):
            for n in range(count):
                await producer.send(
                    name, b"x", key=str(n).encode(), partition=partition, timestamp_ms=stamp + n
                )
        await producer.flush()
    finally:
        await producer.stop()
    return name


async def commit(settings: Settings, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit offsets for a group with a plain consumer, which then leaves."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()


def switchboard_lag(settings: Settings, *args: str) -> dict[str, Any]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "lag", "--json", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def kafka_consumer_groups(paths: StackPaths, settings: Settings, group: str) -> list[list[str]]:
    """Rows of kafka-consumer-groups --describe --group G, split into columns."""
    command = tool_command(
        paths,
        CONSUMER_GROUP_COMMAND,
        "--bootstrap-server",
        settings.kafka_bootstrap_servers,
        "--describe",
        "--group",
        group,
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    header = lines.index(next(line for line in lines if line[:2] == ["GROUP", "TOPIC"]))
    return lines[header + 1 :]


def figures(report: dict[str, Any], topic: str) -> dict[int, tuple[int, int, int]]:
    (group,) = report["groups"]
    return {
        p["partition"]: (p["current_offset"], p["log_end_offset"], p["lag"])
        for p in group["partitions"]
        if p["topic"] == topic
    }


async def test_lag_matches_kafka_consumer_groups(
    settings: Settings, topic: str, kafka_tools: StackPaths
) -> None:
    """Lag N-K per partition, positive seconds, STOP with nobody reading; then 0 and OK."""
    group = f"{settings.switchboard_worker_group}-lag-{uuid.uuid4().hex[:6]}"
    await commit(settings, group, {TopicPartition(topic, p): k for p, k in enumerate(COMMITTED)})

    report = switchboard_lag(settings, "--group", group)
    expected = {p: (k, n, n - k) for p, (n, k) in enumerate(zip(RECORDS, COMMITTED, strict=True))}
    assert figures(report, topic) == expected
    (described,) = report["groups"]
    assert described["status"] == "STOP"  # messages wait, no member reads them
    assert described["lag"] == sum(n - k for n, k in zip(RECORDS, COMMITTED, strict=True))
    for partition in described["partitions"]:
        # The record at the committed offset was stamped AGE_SECONDS ago.
        assert AGE_SECONDS - 5 < partition["lag_seconds"] < AGE_SECONDS + 60
        assert partition["status"] == "STOP"

    theirs = {
        int(row[2]): (int(row[3]), int(row[4]), int(row[5]))
        for row in kafka_consumer_groups(kafka_tools, settings, group)
        if row[1] == topic
    }
    assert theirs == figures(report, topic)

    await commit(settings, group, {TopicPartition(topic, p): n for p, n in enumerate(RECORDS)})
    caught_up = switchboard_lag(settings, "--group", group)
    assert figures(caught_up, topic) == {p: (n, n, 0) for p, n in enumerate(RECORDS)}
    assert caught_up["groups"][0]["status"] == "OK"
    assert caught_up["groups"][0]["lag_seconds"] == 0.0


async def test_members_and_stall_with_a_live_consumer(
    settings: Settings, topic: str, kafka_tools: StackPaths
) -> None:
    """A live member that does not commit: its id and partitions as Kafka shows them; STALL."""
    group = f"{settings.switchboard_worker_group}-live-{uuid.uuid4().hex[:6]}"
    await commit(settings, group, {TopicPartition(topic, p): k for p, k in enumerate(COMMITTED)})
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        max_poll_records=1,
    )
    await consumer.start()
    try:
        await consumer.getone()  # joined, holds both partitions, commits nothing
        report = switchboard_lag(settings, "--group", group)
        theirs = kafka_consumer_groups(kafka_tools, settings, group)
    finally:
        await consumer.stop()
    (described,) = report["groups"]
    assert (described["members"], described["assigned_partitions"]) == (1, 2)
    assert described["status"] == "STALL"  # a member holds them, offsets do not move
    ours = {(p["partition"], p["consumer_id"]) for p in described["partitions"]}
    assert ours == {(int(row[2]), row[6]) for row in theirs if row[1] == topic}
    assert all(p["consumer_id"] for p in described["partitions"])


def test_table_output(settings: Settings) -> None:
    """Without --json: kafka-consumer-groups' columns plus LAG-SECONDS and STATUS."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "lag", "--group", "no-such-group-here"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines()[0].startswith("Consumer group 'no-such-group-here': NOTFOUND")
    assert result.stdout.splitlines()[1].split() == [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "LAG-SECONDS",
        "STATUS",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]
