"""Lag gauges for Prometheus, on a registry of their own unless one is given.

Labels are group, topic and partition only: names the pipeline chose, never anything a
customer sent. `switchboard_consumergroup_status` holds Burrow's codes (see
`lag.evaluate.Status`): 0 NOTFOUND, 1 OK, 2 WARN, 3 ERR, 4 STOP, 5 STALL, 6 REWIND.
"""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Gauge

from lag.tracker import Report

LABELS = ("group", "topic", "partition")
Labels = tuple[str, str, str]


class LagMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.lag_messages = Gauge(
            "switchboard_consumergroup_lag_messages",
            "Messages in the partition not yet committed by the group (log-end - committed).",
            LABELS,
            registry=self.registry,
        )
        self.lag_seconds = Gauge(
            "switchboard_consumergroup_lag_seconds",
            "Age of the oldest record the group has not consumed; 0 when caught up.",
            LABELS,
            registry=self.registry,
        )
        self.status = Gauge(
            "switchboard_consumergroup_status",
            "Burrow-style partition status: 1 OK, 2 WARN, 4 STOP, 5 STALL, 6 REWIND.",
            LABELS,
            registry=self.registry,
        )
        self._series: set[Labels] = set()

    def update(self, report: Report) -> None:
        """Set every partition's gauges; drop series of partitions no longer reported.

        A lag in seconds that could not be read keeps its previous value rather than
        dropping to a misleading zero.
        """
        current: set[Labels] = set()
        for row in report.rows():
            if row.lag is None:
                continue
            labels = (row.group, row.topic, str(row.partition))
            current.add(labels)
            self.lag_messages.labels(*labels).set(row.lag)
            self.status.labels(*labels).set(int(row.status))
            if row.lag_seconds is not None:
                self.lag_seconds.labels(*labels).set(row.lag_seconds)
        for labels in self._series - current:
            for gauge in (self.lag_messages, self.lag_seconds, self.status):
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)
        self._series = current
