"""The worker's /health/detailed: an open circuit names its destination and degrades the
worker without failing it; other paths are the metrics exposition."""

from __future__ import annotations

import json
from typing import Any

from schemas.outbound import Destination
from streams.metrics.health import worker_health
from streams.metrics.registry import WorkerMetrics
from streams.metrics.serve import routes


def test_no_circuit_open_is_healthy() -> None:
    health = worker_health([], {"converse": 3.0})
    assert health["status"] == "healthy"
    assert health["components"]["destinations"] == {
        "status": "up",
        "required": False,
        "not_closed": [],
    }
    assert health["components"]["lanes"]["records_held"] == {"converse": 3.0}


def test_an_open_circuit_is_named_and_degrades_the_worker() -> None:
    waiting = [(Destination("whatsapp", "100000000000001"), "open")]
    health = worker_health(waiting, {})
    assert health["status"] == "degraded"
    assert health["components"]["destinations"]["not_closed"] == [
        {"kind": "whatsapp", "id": "100000000000001", "circuit": "open"}
    ]


def _get(app: Any, path: str) -> tuple[str, dict[str, str], bytes]:
    answered: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answered.update(status=status, headers=dict(headers))

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    body = b"".join(app(environ, start_response))
    return answered["status"], answered["headers"], body


def test_the_endpoint_reads_the_guard_and_the_gauges() -> None:
    metrics = WorkerMetrics()
    metrics.records_held.labels("deliver").inc(5)
    metrics.destinations_waiting = lambda: [(Destination("chatwoot", "3"), "half_open")]
    status, headers, body = _get(routes(metrics), "/health/detailed")
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json"
    health = json.loads(body)
    assert health["status"] == "degraded"
    assert health["components"]["destinations"]["not_closed"][0]["id"] == "3"
    assert health["components"]["lanes"]["records_held"]["deliver"] == 5.0
    status, _, body = _get(routes(metrics), "/metrics")
    assert status.startswith("200")
    assert b'switchboard_worker_records_held{agent="deliver"} 5.0' in body
