"""Retention on a schedule, wired: a Faust crontab that only the leader worker runs
(`streams.retention.run.Retention`)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from streams.bootstrap.shared import Shared
from streams.retention.aged_rows import RetentionStore
from streams.retention.metrics import RetentionMetrics
from streams.retention.run import Retention
from streams.runtime.app import check_crontab

log = structlog.get_logger(__name__)


def wire_retention(shared: Shared) -> RetentionMetrics:
    """Run retention at ``settings.switchboard_retention_cron`` (UTC) on one worker only."""
    app, settings = shared.app, shared.settings
    metrics = RetentionMetrics(shared.metrics.registry)
    # A malformed schedule stops the worker at start, not silently at the first tick.
    check_crontab(settings.switchboard_retention_cron, "SWITCHBOARD_RETENTION_CRON")

    @app.crontab(settings.switchboard_retention_cron, timezone=UTC, on_leader=True)
    async def retention() -> None:
        try:
            db = await shared.database.get()
            await Retention(RetentionStore(db), shared.action_log, metrics).run(datetime.now(UTC))
        except Exception as exc:
            # The next scheduled run starts over; every step of a run is safe to repeat.
            # Not log.exception: a traceback may quote row contents.
            log.error("retention_failed", error=type(exc).__name__)  # noqa: TRY400

    return metrics
