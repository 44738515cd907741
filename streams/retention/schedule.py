"""Retention on a schedule: a Faust crontab that only the leader worker runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import structlog

from sinks.postgres.pool import Database
from streams.retention.aged_rows import RetentionStore
from streams.retention.metrics import RetentionMetrics
from streams.retention.run import EventSink, Retention
from streams.runtime.app import check_crontab
from streams.runtime.types import App
from switchboard.settings import Settings

log = structlog.get_logger(__name__)


class DatabaseSource(Protocol):
    async def get(self) -> Database: ...


def register_retention(
    app: App,
    settings: Settings,
    database: DatabaseSource,
    sink: EventSink,
    metrics: RetentionMetrics | None = None,
) -> RetentionMetrics:
    """Run retention at ``settings.switchboard_retention_cron`` (UTC) on one worker only."""
    metrics = metrics or RetentionMetrics()
    # A malformed schedule stops the worker at start, not silently at the first tick.
    check_crontab(settings.switchboard_retention_cron, "SWITCHBOARD_RETENTION_CRON")

    @app.crontab(settings.switchboard_retention_cron, timezone=UTC, on_leader=True)
    async def retention() -> None:
        try:
            db = await database.get()
            await Retention(RetentionStore(db), sink, metrics).run(datetime.now(UTC))
        except Exception as exc:
            # The next scheduled run starts over; every step of a run is safe to repeat.
            # Not log.exception: a traceback may quote row contents.
            log.error("retention_failed", error=type(exc).__name__)  # noqa: TRY400

    return metrics
