"""The worker's /metrics: prometheus-client's own HTTP server, started with the Faust app.

Faust's web server stays disabled (it would expose table contents). One registry per
process holds the worker's families, the lag gauges and the PostgreSQL pool figures; the
erasure backlog is read from ``gdpr_deletions`` on the lag monitor's interval.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import structlog
from prometheus_client import start_http_server

from sinks.postgres.pool import Database
from streams.lag.metrics import LagMetrics
from streams.lag.monitor import register_lag_monitor
from streams.metrics.registry import WorkerMetrics
from streams.runtime.types import App
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

BIND_ADDRESS = "0.0.0.0"  # noqa: S104 - a container's service port, as ingest's
BACKLOG_SQL = """
SELECT count(*) AS pending, EXTRACT(EPOCH FROM now() - min(requested_at))::float8 AS oldest
FROM gdpr_deletions WHERE status <> 'completed'
"""


class DatabaseSource(Protocol):
    async def get(self) -> Database: ...


def register_metrics(app: App, settings: Settings, database: DatabaseSource) -> WorkerMetrics:
    """Create the process's metrics, serve them once the app starts, stop with it."""
    metrics = WorkerMetrics()
    register_lag_monitor(app, settings, LagMetrics(metrics.registry))
    servers: list[Any] = []

    async def serve_metrics() -> None:
        port = settings.switchboard_worker_web_port
        try:
            server, _ = start_http_server(port, BIND_ADDRESS, registry=metrics.registry)
        except OSError as exc:
            # Another process holds the port: keep processing, say so loudly.
            log.error("metrics_not_served", port=port, error=type(exc).__name__)  # noqa: TRY400
        else:
            servers.append(server)
            log.info("metrics_serving", port=port)
        db = await database.get()
        watch_database(db, metrics)

    app.task(serve_metrics)

    async def erasure_backlog() -> None:
        await read_erasure_backlog(await database.get(), metrics)

    interval = settings.switchboard_lag_interval_seconds
    if interval:
        app.timer(interval, name="erasure-backlog")(erasure_backlog)

    async def stop(app: App, **_: object) -> None:
        for server in servers:
            server.shutdown()
            server.server_close()

    app.on_before_shutdown.connect(stop)  # type: ignore[arg-type]
    return metrics


def watch_database(db: Database, metrics: WorkerMetrics) -> None:
    """Pool figures at scrape time; every statement counted and timed."""
    metrics.pool.sources.append(db.stats)

    def logged(query: Any) -> None:
        metrics.query(query.query, query.elapsed, query.exception is not None)

    db.query_logger = logged


async def read_erasure_backlog(db: Database, metrics: WorkerMetrics) -> None:
    started = time.perf_counter()
    try:
        async with db.connection() as conn:
            row = await conn.fetchrow(BACKLOG_SQL)
    except Exception as exc:
        log.warning("erasure_backlog_unread", error=type(exc).__name__)
        return
    if row is not None:
        metrics.erasure_backlog(int(row["pending"]), row["oldest"])
    log.debug("erasure_backlog_read", seconds=round(time.perf_counter() - started, 3))
