"""Actions held back because they came from a replay (``suppressed_deliveries``)."""

from __future__ import annotations

from sinks.postgres.pool import Database

_SUPPRESSED = """
INSERT INTO suppressed_deliveries (action_id, action_type, replayed_from)
VALUES ($1, $2, $3)
ON CONFLICT (action_id) DO UPDATE
SET times = suppressed_deliveries.times + 1,
    last_suppressed_at = now(),
    replayed_from = coalesce(EXCLUDED.replayed_from, suppressed_deliveries.replayed_from)
"""


class PostgresSuppressionLog:
    """A `streams.replay.hooks.SuppressionLog` over PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def suppressed(self, action_id: str, action_type: str, origin: str | None) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_SUPPRESSED, action_id, action_type, origin)
