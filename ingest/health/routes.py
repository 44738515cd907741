"""`/health/liveness`, `/health/readiness` and `/health/detailed`, and their wiring.

- liveness: the process and its event loop answer; never looks at dependencies, so an
  orchestrator does not restart ingest because Kafka is away;
- readiness: Kafka (producer connected, brokers answering) and, when ingest has one,
  PostgreSQL; 503 as soon as a required one is down, so traffic goes elsewhere;
- detailed: the same plus topics, pool figures, the worker group's members and assigned
  partitions, and consumer lag from the lag monitor that ingest runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from ingest.health.probes import (
    KafkaMetadata,
    Pool,
    ProducerReconnect,
    consumer_group_probe,
    kafka_probe,
    lag_probe,
    postgres_probe,
)
from ingest.health.status import (
    PROBE_TIMEOUT_SECONDS,
    Check,
    ComponentHealth,
    body,
    http_status,
    run_checks,
)
from ingest.openapi import HEALTH_RESPONSES, HealthReport
from ingest.producer import EventLog
from lag.metrics import LagMetrics
from lag.monitor import LagMonitor, run_in_background, stop_lag_monitor
from schemas.catalogue import CATALOGUE
from switchboard.settings import Settings

router = APIRouter(prefix="/health", tags=["health"])


async def _connected(event_log: EventLog) -> ComponentHealth:
    up = event_log.connected()
    return ComponentHealth("up" if up else "down", details={"producer_connected": up})


@dataclass
class HealthChecks:
    readiness: Sequence[Check]
    detailed: Sequence[Check]
    budget: float = PROBE_TIMEOUT_SECONDS
    monitor: LagMonitor | None = None
    monitor_interval: float = 0.0
    producer: ProducerReconnect | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def for_event_log(cls, event_log: EventLog) -> HealthChecks:
        """The minimum: ready while the producer is connected (tests, embedded use)."""
        checks = [Check("kafka", lambda: _connected(event_log))]
        return cls(readiness=checks, detailed=checks)

    async def start(self) -> None:
        if self.monitor is not None:
            self._task = run_in_background(self.monitor, self.monitor_interval)

    async def stop(self) -> None:
        if self.monitor is not None:
            await stop_lag_monitor(self.monitor, self._task)
            self._task = None
        if self.producer is not None:
            await self.producer.close()


def build_health(
    settings: Settings,
    event_log: EventLog,
    database: Pool | None = None,
    *,
    registry: CollectorRegistry | None = None,
) -> HealthChecks:
    """Ingest's checks from Settings. `registry` receives the lag gauges (pass the one
    /metrics serves); `database` is ingest's pool, if it has one."""
    topics = [t.full_name(settings.switchboard_topic_prefix) for t in CATALOGUE]
    metadata = KafkaMetadata(settings.kafka_bootstrap_servers, topics)
    producer = ProducerReconnect(event_log)
    readiness = [Check("kafka", kafka_probe(metadata, producer))]
    if database is not None:
        readiness.append(Check("postgres", postgres_probe(database)))
    detailed = list(readiness)
    monitor = None
    if settings.switchboard_lag_interval_seconds:
        monitor = LagMonitor.from_settings(settings, LagMetrics(registry))
        max_age = 3 * settings.switchboard_lag_interval_seconds
        group = settings.switchboard_worker_group
        detailed.append(
            Check("consumer_group", consumer_group_probe(monitor, group, max_age), False)
        )
        detailed.append(Check("lag", lag_probe(monitor, max_age), required=False))
    return HealthChecks(
        readiness,
        detailed,
        monitor=monitor,
        monitor_interval=settings.switchboard_lag_interval_seconds,
        producer=producer,
    )


def _checks(request: Request) -> HealthChecks:
    checks: HealthChecks = request.app.state.health
    return checks


async def _answer(checks: Sequence[Check], budget: float) -> JSONResponse:
    components = await run_checks(checks, budget)
    content = body(components)
    return JSONResponse(content, status_code=http_status(content["status"]))


@router.get("/liveness", responses={200: {"model": HealthReport}})
async def liveness() -> JSONResponse:
    """The process is up and its event loop answers."""
    return JSONResponse({"status": "healthy", "components": {}})


@router.get("/readiness", responses=HEALTH_RESPONSES)
async def readiness(request: Request) -> JSONResponse:
    """Ready to accept webhooks: 503 while a required dependency is down."""
    checks = _checks(request)
    return await _answer(checks.readiness, checks.budget)


@router.get("/detailed", responses=HEALTH_RESPONSES)
async def detailed(request: Request) -> JSONResponse:
    """Every component's status and figures; 503 while a required one is down."""
    checks = _checks(request)
    return await _answer(checks.detailed, checks.budget)
