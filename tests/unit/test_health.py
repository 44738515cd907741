"""Health: component statuses add up to one answer, probes are bounded, routes follow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.health.probes import consumer_group_probe, lag_probe
from ingest.health.routes import HealthChecks
from ingest.health.status import (
    Check,
    ComponentHealth,
    body,
    http_status,
    overall,
    run_checks,
)
from ingest.testing import InMemoryEventLog
from lag.model import GroupOffsets, Member, PartitionOffsets, Snapshot
from lag.monitor import LagMonitor
from switchboard.settings import Settings

UP = ComponentHealth("up")
DOWN = ComponentHealth("down")
DOWN_OPTIONAL = ComponentHealth("down", required=False)
DEGRADED = ComponentHealth("degraded")


@pytest.mark.parametrize(
    ("components", "expected", "code"),
    [
        ({}, "healthy", 200),
        ({"kafka": UP, "postgres": UP}, "healthy", 200),
        ({"kafka": UP, "postgres": DOWN}, "unhealthy", 503),
        ({"kafka": DOWN, "lag": DEGRADED}, "unhealthy", 503),
        ({"kafka": UP, "lag": DEGRADED}, "degraded", 200),
        ({"kafka": UP, "lag": DOWN_OPTIONAL}, "degraded", 200),
    ],
)
def test_overall_status_and_http_code(
    components: dict[str, ComponentHealth], expected: str, code: int
) -> None:
    """A required component down is unhealthy (503); anything less than up is degraded."""
    assert overall(components) == expected
    assert http_status(overall(components)) == code


def test_body_shape() -> None:
    """{"status", "components": {name: {"status", "required", figures...}}}."""
    components = {"postgres": ComponentHealth("up", details={"pool": {"size": 10, "idle": 9}})}
    assert body(components) == {
        "status": "healthy",
        "components": {
            "postgres": {"status": "up", "required": True, "pool": {"size": 10, "idle": 9}}
        },
    }


async def test_probes_that_hang_or_raise_are_down_within_the_budget() -> None:
    """A hanging probe is cut at the budget; a raising one reports only its class name."""

    async def hangs() -> ComponentHealth:
        await asyncio.sleep(60)
        return UP

    async def raises() -> ComponentHealth:
        raise ConnectionRefusedError("10.0.0.1:5432 refused for user alice")

    async def fine() -> ComponentHealth:
        return ComponentHealth("up", required=True)

    started = time.monotonic()
    results = await run_checks(
        [Check("a", hangs), Check("b", raises, required=False), Check("c", fine, required=False)],
        budget=0.2,
    )
    assert time.monotonic() - started < 1.0
    assert results["a"] == ComponentHealth("down", True, {"error": "timeout"})
    assert results["b"] == ComponentHealth("down", False, {"error": "ConnectionRefusedError"})
    # The check decides whether a component is required, not the probe.
    assert results["c"].required is False


@pytest.fixture
def event_log() -> InMemoryEventLog:
    return InMemoryEventLog()


@pytest.fixture
def client(event_log: InMemoryEventLog) -> Iterator[TestClient]:
    with TestClient(
        create_app(build_ingest(Settings(), event_log, in_memory_keyring()))
    ) as test_client:
        yield test_client


def test_liveness_ignores_dependencies(client: TestClient, event_log: InMemoryEventLog) -> None:
    """Liveness stays 200 with Kafka away: restarting ingest would not bring Kafka back."""
    event_log.available = False
    assert client.get("/health/liveness").status_code == 200
    assert client.get("/health").status_code == 200


def test_readiness_follows_the_producer(client: TestClient, event_log: InMemoryEventLog) -> None:
    """By default readiness is the producer's connection: 503 without it, 200 with it."""
    assert client.get("/health/readiness").json()["status"] == "healthy"
    event_log.available = False
    answer = client.get("/health/readiness")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unhealthy",
        "components": {"kafka": {"status": "down", "required": True, "producer_connected": False}},
    }
    event_log.available = True
    assert client.get("/health/readiness").status_code == 200


def test_given_probes_are_served(event_log: InMemoryEventLog) -> None:
    """Readiness and detailed run the probes they are given; an optional one only degrades."""

    async def database() -> ComponentHealth:
        return ComponentHealth("up", details={"pool": {"size": 2, "in_use": 1, "idle": 1}})

    async def lag() -> ComponentHealth:
        return ComponentHealth("degraded", details={"groups": {}})

    checks = HealthChecks(
        readiness=[Check("postgres", database)],
        detailed=[Check("postgres", database), Check("lag", lag, required=False)],
    )
    with TestClient(
        create_app(build_ingest(Settings(), event_log, in_memory_keyring()), checks)
    ) as client:
        assert client.get("/health/readiness").json()["status"] == "healthy"
        detailed = client.get("/health/detailed")
        assert detailed.status_code == 200
        assert detailed.json()["status"] == "degraded"
        assert detailed.json()["components"]["postgres"]["pool"]["in_use"] == 1


def _monitor_with(snapshot: Snapshot) -> LagMonitor:
    monitor = LagMonitor("127.0.0.1:1", "sw")
    monitor.latest = monitor.tracker.add(snapshot)
    return monitor


async def test_consumer_group_and_lag_components() -> None:
    """The worker group's members and partitions, and each group's lag and status."""
    member = Member("m-1", "faust-1", "/127.0.0.1", (("in", 0), ("in", 1)))
    group = GroupOffsets("sw", "Stable", (member,), (PartitionOffsets("in", 0, 5, 5),))
    stopped = GroupOffsets("sw-replay", "Empty", (), (PartitionOffsets("in", 0, 1, 9, 0.0),))
    monitor = _monitor_with(Snapshot(time.time(), (group, stopped)))
    members = await consumer_group_probe(monitor, "sw", max_age=60)()
    assert members == ComponentHealth(
        "up",
        details={"group": "sw", "state": "Stable", "members": 1, "assigned_partitions": 2},
    )
    lag = await lag_probe(monitor, max_age=60)()
    assert lag.status == "degraded"
    assert lag.details["groups"]["sw"]["status"] == "OK"
    assert lag.details["groups"]["sw-replay"]["status"] == "STOP"
    assert lag.details["groups"]["sw-replay"]["lag"] == 8


async def test_stale_lag_sample_is_degraded() -> None:
    """A monitor that has not sampled lately does not pass for healthy."""
    monitor = _monitor_with(Snapshot(time.time() - 600, ()))
    assert (await lag_probe(monitor, max_age=60)()).status == "degraded"
    assert (await consumer_group_probe(monitor, "sw", max_age=60)()).status == "degraded"
