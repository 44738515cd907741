"""Retention on a schedule: a Faust crontab that only the leader worker runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import faust
import structlog

from sinks.postgres.pool import Database
from streams.retention.metrics import RetentionMetrics
from streams.retention.run import EventSink, Retention
from streams.retention.store import RetentionStore
from switchboard.settings import Settings

log = structlog.get_logger(__name__)


class DatabaseSource(Protocol):
    async def get(self) -> Database: ...


def register_retention(
    app: faust.App,
    settings: Settings,
    database: DatabaseSource,
    sink: EventSink,
    metrics: RetentionMetrics | None = None,
) -> RetentionMetrics:
    """Run retention at ``settings.switchboard_retention_cron`` (UTC) on one worker only."""
    metrics = metrics or RetentionMetrics()

    @app.crontab(settings.switchboard_retention_cron, timezone=UTC, on_leader=True)
    async def retention() -> None:
        db = await database.get()
        try:
            await Retention(RetentionStore(db), sink, metrics).run(datetime.now(UTC))
        except Exception as exc:
            # The next scheduled run starts over; every step of a run is safe to repeat.
            # Not log.exception: a traceback may quote row contents.
            log.error("retention_failed", error=type(exc).__name__)  # noqa: TRY400

    return metrics
