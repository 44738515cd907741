"""The issue's check: with the worker stopped while 1,000 messages arrive, lag shows them,
in messages and in growing seconds, and says STOP; after a restart it returns to 0 and OK."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from lag.monitor import LagMonitor
from schemas.catalogue import INBOUND
from switchboard.settings import Settings
from tests.integration.conftest import ROOT, Worker, eventually, isolated, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ARRIVING = 1000


async def produce(settings: Settings, count: int, *, every_partition: bool = False) -> None:
    """Records the worker dead-letters quickly (they are not events): lag does not care what
    a record holds, and the worker still commits each after handling it."""
    topic = INBOUND.full_name(settings.switchboard_topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for n in range(count):
            partition = n % INBOUND.partitions if every_partition else None
            await producer.send(topic, b"not an event", key=f"k{n}".encode(), partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def lag(settings: Settings) -> dict[str, Any]:
    """`switchboard lag --json --group G` for the worker's group, as a child process."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard.cli",
        "lag",
        "--json",
        "--group",
        settings.switchboard_worker_group,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    group: dict[str, Any] = json.loads(stdout)["groups"][0]
    return group


def inbound_lag(group: dict[str, Any], settings: Settings) -> int:
    topic = INBOUND.full_name(settings.switchboard_topic_prefix)
    return sum(p["lag"] or 0 for p in group["partitions"] if p["topic"] == topic)


async def test_stopped_worker_then_restarted(settings: Settings, tmp_path: Path) -> None:
    """STOP with lag 1,000 and growing seconds while stopped; 0 and OK after the restart."""
    own = await isolated(settings, "lagw")
    worker = Worker(settings_env(own, tmp_path), tmp_path / "worker.log")
    worker.start()
    try:
        # Every inbound partition gets a committed offset before the worker goes away.
        await produce(own, INBOUND.partitions, every_partition=True)

        async def caught_up() -> bool:
            group = await lag(own)
            committed = [
                p
                for p in group["partitions"]
                if p["topic"] == INBOUND.full_name(own.switchboard_topic_prefix)
                and p["current_offset"] is not None
            ]
            return len(committed) == INBOUND.partitions and group["status"] == "OK"

        assert await eventually(caught_up, timeout=90, interval=1), worker.log()[-3000:]
        worker.stop()

        await produce(own, ARRIVING)
        stopped = await eventually(lambda: _with_members(own, 0), timeout=30, interval=1)
        assert inbound_lag(stopped, own) == ARRIVING
        assert stopped["status"] == "STOP"
        first_seconds = stopped["lag_seconds"]
        assert first_seconds is not None

        # The gauges say the same (the monitor ingest and the worker run).
        monitor = LagMonitor(own.kafka_bootstrap_servers, own.switchboard_worker_group)
        try:
            await monitor.sample()
        finally:
            await monitor.close()
        gauges = monitor.metrics.registry
        topic = INBOUND.full_name(own.switchboard_topic_prefix)
        total = sum(
            gauges.get_sample_value(
                "switchboard_consumergroup_lag_messages",
                {"group": own.switchboard_worker_group, "topic": topic, "partition": str(p)},
            )
            or 0
            for p in range(INBOUND.partitions)
        )
        assert total == ARRIVING

        await asyncio.sleep(2)
        later = await lag(own)
        assert later["lag_seconds"] > first_seconds  # the oldest waiting record keeps ageing

        worker.start()

        async def recovered() -> dict[str, Any] | None:
            group = await lag(own)
            return group if inbound_lag(group, own) == 0 and group["status"] == "OK" else None

        done = await eventually(recovered, timeout=120, interval=2)
        assert done, worker.log()[-3000:]
        assert done["lag"] == 0
        assert done["lag_seconds"] == 0.0
    finally:
        worker.stop()


async def _with_members(settings: Settings, members: int) -> dict[str, Any] | None:
    group = await lag(settings)
    return group if group["members"] == members and inbound_lag(group, settings) else None
