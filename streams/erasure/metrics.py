"""Erasure metrics, on the registry the worker's /metrics serves (a registry of their own in
tests). Labels are target and outcome names only."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ErasureMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requested = Counter(
            "switchboard_erasures_requested_total",
            "Erasure requests recorded (a repeated request counts again).",
            registry=self.registry,
        )
        self.completed = Counter(
            "switchboard_erasures_completed_total",
            "Erasures with every target complete and the proof written.",
            registry=self.registry,
        )
        self.duration = Histogram(
            "switchboard_erasure_duration_seconds",
            "From the erasure request to every target complete.",
            buckets=(1, 2, 5, 10, 30, 60, 300, 1800, 3600, 86400),
            registry=self.registry,
        )
        self.attempts = Counter(
            "switchboard_erasure_target_attempts_total",
            "Attempts at an erasure target, by target and outcome (done, failed, waiting).",
            ["target", "outcome"],
            registry=self.registry,
        )
        self.target_seconds = Histogram(
            "switchboard_erasure_target_seconds",
            "Time one attempt at an erasure target took.",
            ["target"],
            registry=self.registry,
        )
