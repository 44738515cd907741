"""The lag monitor: samples the pipeline's consumer groups every few seconds, keeps their
windows, and updates the lag gauges.

It runs in any asyncio process: in the worker as a Faust timer (`streams.bootstrap.metrics`),
and in ingest beside the health endpoints (`start_lag_monitor`), which also serves the
gauges while every worker is down, when lag matters most.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog

from lag.metrics import LagMetrics
from lag.offsets import LagReader
from lag.tracker import LagTracker, Report
from sinks.kafka.errors import KAFKA_FAILURES
from switchboard.settings import Settings

log = structlog.get_logger(__name__)


class LagMonitor:
    def __init__(
        self,
        bootstrap_servers: str,
        group_prefix: str,
        *,
        extra_groups: Sequence[str] = (),
        metrics: LagMetrics | None = None,
        window_seconds: float = 300.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.metrics = metrics or LagMetrics()
        self.tracker = LagTracker(window_seconds=window_seconds)
        self.latest: Report | None = None
        self._bootstrap = bootstrap_servers
        self._prefix = group_prefix
        self._extra = tuple(extra_groups)
        self._timeout = timeout_seconds
        self._reader: LagReader | None = None

    @classmethod
    def from_settings(cls, settings: Settings, metrics: LagMetrics | None = None) -> LagMonitor:
        return cls(
            settings.kafka_bootstrap_servers,
            settings.switchboard_worker_group,
            metrics=metrics,
            window_seconds=settings.switchboard_lag_window_seconds,
        )

    async def sample(self) -> Report:
        """One look at the broker: extends the windows, updates the gauges."""
        if self._reader is None:
            reader = LagReader(self._bootstrap, timeout_seconds=self._timeout)
            await reader.start()
            self._reader = reader
        try:
            async with asyncio.timeout(self._timeout * 2):
                groups = await self._reader.list_groups(self._prefix, self._extra)
                report = self.tracker.add(await self._reader.snapshot(groups))
        except BaseException:
            # Reconnect from scratch next time: the broker may have moved or restarted.
            await self.close()
            raise
        self.metrics.update(report)
        self.latest = report
        log.debug("lag_sampled", groups=len(report.groups), partitions=len(report.rows()))
        return report

    async def sample_quietly(self) -> None:
        """A sample whose failure is logged, not raised: the monitor must outlive the broker."""
        try:
            await self.sample()
        except KAFKA_FAILURES as exc:
            log.warning("lag_sample_failed", error=type(exc).__name__)

    async def run(self, interval: float) -> None:
        while True:
            await self.sample_quietly()
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.close()


def run_in_background(monitor: LagMonitor, interval: float) -> asyncio.Task[None] | None:
    """Sample every `interval` seconds in a task (none when the interval is 0)."""
    if not interval:
        return None
    return asyncio.create_task(monitor.run(interval), name="lag-monitor")


async def start_lag_monitor(
    settings: Settings, metrics: LagMetrics | None = None
) -> tuple[LagMonitor, asyncio.Task[None] | None]:
    """A monitor sampling every SWITCHBOARD_LAG_INTERVAL_SECONDS in a background task (none
    when the interval is 0), for any asyncio process. Stop it with `stop_lag_monitor`."""
    monitor = LagMonitor.from_settings(settings, metrics)
    return monitor, run_in_background(monitor, settings.switchboard_lag_interval_seconds)


async def stop_lag_monitor(monitor: LagMonitor, task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await monitor.close()
