"""The event log ingest writes through: every event's personal data is sealed first.

Wrapping the log, rather than sealing in each endpoint, means nothing that ingest appends
(webhooks, the compliance API) can reach Kafka in plaintext by forgetting a step.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from pydantic_core import PydanticSerializationError

from datakeys.errors import KeyUnavailableError
from datakeys.keyring import KeyRing
from ingest.errors import KeysUnavailable, Malformed
from ingest.producer import RETRY_AFTER_SECONDS, EventLog
from schemas.events import Event
from schemas.sealing import SealError

log = structlog.get_logger(__name__)


class SealingEventLog:
    """An `EventLog` that seals, then appends to the one it wraps. The key ring's own start
    and stop belong to whoever owns it (the app's lifespan)."""

    def __init__(self, inner: EventLog, keyring: KeyRing) -> None:
        self.inner = inner
        self.keyring = keyring

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    def connected(self) -> bool:
        return self.inner.connected()

    async def append(self, events: Sequence[Event]) -> None:
        """Seal every event, or refuse them all (503, or 400 for unrepresentable values)
        before anything is written; then append."""
        try:
            sealed = [await self.keyring.seal(event) for event in events]
        except PydanticSerializationError as exc:
            raise Malformed("the payload holds values that cannot be represented") from exc
        except (KeyUnavailableError, SealError) as exc:
            log.warning("sealing_unavailable", error=type(exc).__name__, events=len(events))
            raise KeysUnavailable(
                "personal data cannot be sealed right now; retry later",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ) from exc
        await self.inner.append(sealed)
