"""Retention's Prometheus metrics, on a registry of their own unless given one.

The only label is the data category, from a fixed vocabulary: nothing about a contact.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from streams.retention.policy import CATEGORIES


class RetentionMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.removed = Counter(
            "switchboard_retention_removed_total",
            "Records removed by retention runs, by data category (contacts: erasures requested).",
            ["category"],
            registry=self.registry,
        )
        self.runs = Counter(
            "switchboard_retention_runs_total",
            "Retention runs, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "switchboard_retention_last_success_timestamp_seconds",
            "When the last retention run finished successfully (Unix time).",
            registry=self.registry,
        )
        for category in CATEGORIES:
            self.removed.labels(category)
        for outcome in ("completed", "failed"):
            self.runs.labels(outcome)

    def completed(self, counts: Mapping[str, int], finished_at: float) -> None:
        for category, count in counts.items():
            self.removed.labels(category).inc(count)
        self.runs.labels("completed").inc()
        self.last_success.set(finished_at)

    def failed(self) -> None:
        self.runs.labels("failed").inc()
