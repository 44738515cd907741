"""HTTP request metrics for ingest, as a plain ASGI middleware.

Requests are labelled by the matched route's path template (``/exports/{export_id}``),
never by the raw path, and by status code; a path no route matches is ``unmatched``. So
the label values are bounded by the routes the app declares. A request whose client hung up
before any answer is counted 499, as nginx logs it, not as a server error.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
CLIENT_CLOSED = 499  # nginx's "client closed request"


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "switchboard_http_requests_total",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "switchboard_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.in_progress = Gauge(
            "switchboard_http_requests_in_progress",
            "HTTP requests being served, by method.",
            ["method"],
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The path template of the route that served ``scope``, or ``unmatched``."""
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500  # if the app fails before it starts a response
        started = perf_counter()
        answered = False

        async def receive_watched() -> Message:
            nonlocal status
            message = await receive()
            if message["type"] == "http.disconnect" and not answered:
                status = CLIENT_CLOSED  # unless the app answers after all
            return message

        async def send_counted(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = int(message["status"]), True
            await send(message)

        gauge = self.metrics.in_progress.labels(method)
        gauge.inc()
        try:
            await self.app(scope, receive_watched, send_counted)
        finally:
            gauge.dec()
            self.metrics.observe(method, route_template(scope), status, perf_counter() - started)
