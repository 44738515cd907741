"""The delivery log in PostgreSQL: which steps of an outbound action are being attempted, and
which a provider accepted.

Each write is its own statement (autocommit): once ``attempting`` returns, the mark survives
a crash and the request may go out; once ``record`` returns, the step is delivered for good
and the sender may start the next one.
"""

from __future__ import annotations

from sinks.outbound.deliveries import StepRecord
from sinks.postgres.pool import Database

_STEPS = """
SELECT step, state, attempted_at, status_code, provider_message_id
FROM deliveries WHERE action_id = $1
"""

# A delivered step stays delivered; an attempting one gets the time of its latest attempt.
_ATTEMPTING = """
INSERT INTO deliveries (action_id, step, state, attempted_at)
VALUES ($1, $2, 'attempting', now())
ON CONFLICT (action_id, step) DO UPDATE SET attempted_at = now()
WHERE deliveries.state = 'attempting'
"""

# Only an attempting mark is taken back; a delivered step stays delivered.
_NOT_SENT = """
DELETE FROM deliveries WHERE action_id = $1 AND step = $2 AND state = 'attempting'
"""

# The first delivery of a step is the one that counts; a second record changes nothing.
_RECORD = """
INSERT INTO deliveries (action_id, step, state, status_code, provider_message_id)
VALUES ($1, $2, 'delivered', $3, $4)
ON CONFLICT (action_id, step) DO UPDATE
SET state = 'delivered',
    status_code = EXCLUDED.status_code,
    provider_message_id = EXCLUDED.provider_message_id,
    delivered_at = now()
WHERE deliveries.state = 'attempting'
"""


class PostgresDeliveryLog:
    """A `sinks.outbound.deliveries.DeliveryLog` over the ``deliveries`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def steps(self, action_id: str) -> dict[str, StepRecord]:
        async with self.database.connection() as conn:
            rows = await conn.fetch(_STEPS, action_id)
        return {
            row["step"]: StepRecord(
                step=row["step"],
                state=row["state"],
                attempted_at=row["attempted_at"],
                status_code=row["status_code"],
                provider_id=row["provider_message_id"],
            )
            for row in rows
        }

    async def attempting(self, action_id: str, step: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_ATTEMPTING, action_id, step)

    async def not_sent(self, action_id: str, step: str) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_NOT_SENT, action_id, step)

    async def record(
        self, action_id: str, step: str, status_code: int | None, provider_id: str | None
    ) -> None:
        async with self.database.connection() as conn:
            await conn.execute(_RECORD, action_id, step, status_code, provider_id)
