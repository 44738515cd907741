"""The lag monitor in the worker: a Faust timer samples it, and the app's shutdown closes it.

The monitor itself (lag/monitor.py) knows no Faust, so ingest runs it too.
"""

from __future__ import annotations

from lag.metrics import LagMetrics
from lag.monitor import LagMonitor
from streams.runtime.types import App
from switchboard.settings import Settings


def register_lag_monitor(
    app: App, settings: Settings, metrics: LagMetrics | None = None
) -> LagMonitor:
    """Sample as a Faust timer in every worker; closed with the app. Returns the monitor,
    whose `metrics.registry` a worker's /metrics serves."""
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
