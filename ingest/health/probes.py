"""The probes behind /health/readiness and /health/detailed, one small function each.

Kafka is asked afresh (a new bootstrap and a metadata request, cached for a second), not
through the producer's long-lived connections: those keep talking to the brokers they
learned about and would not notice that the address the service is configured with no
longer answers. The producer's own state is checked too, and a producer that never
connected is restarted in the background, so readiness comes back by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from aiokafka.admin import AIOKafkaAdminClient

from ingest.health.status import ComponentHealth, Probe
from ingest.producer import EventLog
from lag.monitor import LagMonitor
from lag.report import group_json

KAFKA_TIMEOUT_SECONDS = 1.5
KAFKA_CACHE_SECONDS = 1.0


class Pool(Protocol):
    """What the PostgreSQL probe needs of `sinks.postgres.pool.Database`."""

    def connection(self) -> AbstractAsyncContextManager[Any]: ...

    def stats(self) -> dict[str, int]: ...


class KafkaMetadata:
    """Brokers and topics as a fresh client sees them, cached for a moment so that frequent
    probes (and /health/detailed) do not each open a connection."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        *,
        timeout_seconds: float = KAFKA_TIMEOUT_SECONDS,
        cache_seconds: float = KAFKA_CACHE_SECONDS,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topics = tuple(topics)
        self._timeout = timeout_seconds
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, ComponentHealth] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> ComponentHealth:
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self._cache_seconds:
                return self._cached[1]
            result = await self._ask()
            self._cached = (time.monotonic(), result)
            return result

    async def _ask(self) -> ComponentHealth:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, request_timeout_ms=int(self._timeout * 1000)
        )
        try:
            async with asyncio.timeout(self._timeout):
                await admin.start()
                cluster = await admin.describe_cluster()
                present = set(await admin.list_topics())
        except Exception as exc:
            return ComponentHealth("down", details={"error": type(exc).__name__})
        finally:
            await admin.close()
        missing = [t for t in self._topics if t not in present]
        details = {
            "brokers": len(cluster.get("brokers", ())),
            "topics_present": len(self._topics) - len(missing),
            "topics_missing": missing,
        }
        return ComponentHealth("degraded" if missing else "up", details=details)


class ProducerReconnect:
    """Restart a producer that is not connected, one attempt at a time, in the background:
    a probe must answer within its budget, and cancelling a half-started producer leaks it."""

    def __init__(self, event_log: EventLog) -> None:
        self._log = event_log
        self._attempt: asyncio.Task[None] | None = None

    def connected(self) -> bool:
        if not self._log.connected() and (self._attempt is None or self._attempt.done()):
            self._attempt = asyncio.create_task(self._log.start(), name="producer-reconnect")
        return self._log.connected()

    async def close(self) -> None:
        if self._attempt is not None and not self._attempt.done():
            await self._attempt


def kafka_probe(metadata: KafkaMetadata, producer: ProducerReconnect) -> Probe:
    """Ready when the producer is connected and the configured brokers answer."""

    async def probe() -> ComponentHealth:
        result = await metadata.check()
        connected = producer.connected()
        details = {"producer_connected": connected, **result.details}
        if not connected:
            return ComponentHealth("down", details=details)
        return ComponentHealth(result.status, details=details)

    return probe


def postgres_probe(database: Pool) -> Probe:
    """Usable when a pooled connection answers a query; figures from the pool."""

    async def probe() -> ComponentHealth:
        async with database.connection() as conn:
            await conn.fetchval("SELECT 1")
        return ComponentHealth("up", details={"pool": database.stats()})

    return probe


def _stale(monitor: LagMonitor, max_age: float) -> bool:
    return monitor.latest is None or time.time() - monitor.latest.time > max_age


def consumer_group_probe(monitor: LagMonitor, group: str, max_age: float) -> Probe:
    """The worker group's members and assigned partitions, from the lag monitor's last look."""

    async def probe() -> ComponentHealth:
        if _stale(monitor, max_age) or monitor.latest is None:
            return ComponentHealth("degraded", details={"error": "no recent sample"})
        found = [g for g in monitor.latest.groups if g.group == group]
        if not found:
            return ComponentHealth("degraded", details={"group": group, "members": 0})
        g = found[0]
        details = {
            "group": group,
            "state": g.state,
            "members": g.members,
            "assigned_partitions": g.assigned_partitions,
        }
        return ComponentHealth("up" if g.members else "degraded", details=details)

    return probe


def lag_probe(monitor: LagMonitor, max_age: float) -> Probe:
    """Lag of every pipeline group; degraded unless every group is OK."""

    async def probe() -> ComponentHealth:
        report = monitor.latest
        if report is None or _stale(monitor, max_age):
            return ComponentHealth("degraded", details={"error": "no recent sample"})
        groups = {
            g.group: {k: v for k, v in group_json(g).items() if k not in ("group", "partitions")}
            for g in report.groups
        }
        healthy = all(g.status.name in ("OK", "NOTFOUND") for g in report.groups)
        details = {"sampled_at": report.time, "groups": groups}
        return ComponentHealth("up" if healthy else "degraded", details=details)

    return probe
