"""The worker's /metrics and /health/detailed (`streams.metrics.health`): one small HTTP
server in its own thread, started with the Faust app (`streams.bootstrap.metrics`); the
PostgreSQL pool's figures and statements, and the erasure backlog from ``gdpr_deletions``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import make_wsgi_app

from sinks.postgres.pool import Database
from streams.metrics.health import worker_health
from streams.metrics.registry import WorkerMetrics

log = structlog.get_logger(__name__)

BIND_ADDRESS = "0.0.0.0"  # noqa: S104 - a container's service port, as ingest's
BACKLOG_SQL = """
SELECT count(*) AS pending, EXTRACT(EPOCH FROM now() - min(requested_at))::float8 AS oldest
FROM gdpr_deletions WHERE status <> 'completed'
"""


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
