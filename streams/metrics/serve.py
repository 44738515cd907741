"""The worker's /metrics and /health/detailed (`streams.metrics.health`): one small HTTP
server in its own thread, started with the Faust app.

Faust's web server stays disabled (it would expose table contents). One registry per
process holds the worker's families, the lag gauges and the PostgreSQL pool figures; the
erasure backlog is read from ``gdpr_deletions`` on the lag monitor's interval.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import make_wsgi_app

from lag.metrics import LagMetrics
from sinks.postgres.pool import Database
from streams.metrics.health import worker_health
from streams.metrics.lag_timer import register_lag_monitor
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


Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ORDERED_AGENTS = ("converse", "deliver", "store")


def routes(metrics: WorkerMetrics) -> Wsgi:
    """/health/detailed as JSON; every other path is prometheus-client's exposition."""
    exposition: Wsgi = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/health/detailed":
            return exposition(environ, start_response)
        held = {
            agent: metrics.registry.get_sample_value(
                "switchboard_worker_records_held", {"agent": agent}
            )
            or 0.0
            for agent in ORDERED_AGENTS
        }
        body = json.dumps(worker_health(metrics.destinations_waiting(), held)).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged: one line per scrape would drown the worker's own."""


def serve(port: int, app: Wsgi) -> WSGIServer:
    server = make_server(BIND_ADDRESS, port, app, _ThreadingServer, _QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
