"""What replays leave in PostgreSQL: the groups `switchboard replay` seeded
(``replay_groups``), and the actions held back instead of sent (``suppressed_deliveries``)."""

from __future__ import annotations

from typing import Literal

from sinks.postgres.pool import Database

_SUPPRESSED = """
INSERT INTO suppressed_deliveries (action_id, action_type, replayed_from)
VALUES ($1, $2, $3)
ON CONFLICT (action_id) DO UPDATE
SET times = suppressed_deliveries.times + 1,
    last_suppressed_at = now(),
    replayed_from = coalesce(EXCLUDED.replayed_from, suppressed_deliveries.replayed_from)
"""

# Seeding the same group again updates how it was seeded last.
_REGISTER = """
INSERT INTO replay_groups (group_id, topic, resend)
VALUES ($1, $2, $3)
ON CONFLICT (group_id) DO UPDATE
SET topic = EXCLUDED.topic, resend = EXCLUDED.resend, seeded_at = now()
"""

_MARK = "SELECT resend FROM replay_groups WHERE group_id = $1"


class PostgresSuppressionLog:
    """A `streams.replay.hooks.SuppressionLog` over PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def suppressed(self, action_id: str, action_type: str, origin: str | None) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_SUPPRESSED, action_id, action_type, origin)


async def register_replay_group(database: Database, group: str, topic: str, resend: bool) -> None:
    async with database.connection() as conn:
        await conn.execute(_REGISTER, group, topic, resend)


async def replay_group_mark(database: Database, group: str) -> Literal["suppress", "resend"] | None:
    """How a worker in `group` treats what it emits: None for a group no replay seeded."""
    async with database.connection() as conn:
        resend = await conn.fetchval(_MARK, group)
    if resend is None:
        return None
    return "resend" if resend else "suppress"
