"""The delivery log in PostgreSQL: which steps of an outbound action a provider accepted.

Each record is its own statement (autocommit): once ``record`` returns, the step survives a
crash, and the sender may start the next one.
"""

from __future__ import annotations

from sinks.postgres.pool import Database

_DONE_STEPS = "SELECT step FROM deliveries WHERE action_id = $1"

# The first delivery of a step is the one that counts; a second record changes nothing.
_RECORD = """
INSERT INTO deliveries (action_id, step, status_code, provider_message_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT (action_id, step) DO NOTHING
"""


class PostgresDeliveryLog:
    """A `sinks.outbound.deliveries.DeliveryLog` over the ``deliveries`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def done_steps(self, action_id: str) -> set[str]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(_DONE_STEPS, action_id)
        return {row["step"] for row in rows}

    async def record(
        self, action_id: str, step: str, status_code: int, provider_id: str | None
    ) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_RECORD, action_id, step, status_code, provider_id)
