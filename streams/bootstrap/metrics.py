"""The worker's metrics, wired: /metrics and /health/detailed served once the app starts
(`streams.metrics.serve`), the lag monitor as a timer, the erasure backlog read from
``gdpr_deletions`` on the lag monitor's interval, and the commit watch's repairs counted.

Faust's web server stays disabled (it would expose table contents). One registry per
process holds the worker's families, the lag gauges and the PostgreSQL pool figures.
"""

from __future__ import annotations

from typing import Any

import structlog

from lag.metrics import LagMetrics
from lag.monitor import LagMonitor
from streams.bootstrap.shared import DatabaseSource
from streams.metrics.registry import WorkerMetrics
from streams.metrics.serve import read_erasure_backlog, routes, serve, watch_database
from streams.runtime.faust_fixes import watch_commits
from streams.runtime.types import App
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

COMMIT_WATCH_INTERVAL_SECONDS = 2.0


def wire_metrics(app: App, settings: Settings, database: DatabaseSource) -> WorkerMetrics:
    """Create the process's metrics, serve them once the app starts, stop with it."""
    metrics = WorkerMetrics()
    wire_lag_monitor(app, settings, LagMetrics(metrics.registry))
    servers: list[Any] = []

    async def serve_metrics() -> None:
        port = settings.switchboard_worker_web_port
        try:
            server = serve(port, routes(metrics))
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


def wire_lag_monitor(app: App, settings: Settings, metrics: LagMetrics) -> LagMonitor:
    """Sample as a Faust timer in every worker; closed with the app. The gauges are on
    the registry the worker's /metrics serves."""
    monitor = LagMonitor.from_settings(settings, metrics)
    interval = settings.switchboard_lag_interval_seconds
    if interval:

        async def lag_monitor() -> None:
            await monitor.sample_quietly()

        app.timer(interval, name="lag-monitor")(lag_monitor)

    async def close(app: App, **_: object) -> None:
        await monitor.close()

    app.on_before_shutdown.connect(close)  # type: ignore[arg-type]
    return monitor


def wire_commit_watch(app: App, settings: Settings, metrics: WorkerMetrics) -> None:
    """Repair commits that stopped moving (streams/runtime/commit_watch.py), counted."""
    if settings.switchboard_commit_watch_seconds:
        watch_commits(
            app,
            interval=COMMIT_WATCH_INTERVAL_SECONDS,
            patience=settings.switchboard_commit_watch_seconds,
            repaired=lambda topic, action: metrics.commit_repairs.labels(topic, action.value).inc(),
        )
