"""What the key ring reads and writes: the data-keys and erasures topics, as a port.

`KafkaKeyLog` (datakeys/kafka.py) is the real one; `InMemoryKeyLog` serves unit tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from datakeys.errors import KeyUnavailableError
from schemas.sealing import WrappedKey


class Erasure(BaseModel):
    """The value of an ``erasures.v1`` record (key: the contact id). Kept as proof."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deletion_id: str
    erased_at: AwareDatetime
    reason: str


def encode_erasure(erasure: Erasure) -> bytes:
    return erasure.model_dump_json().encode()


def decode_erasure(value: bytes) -> Erasure | None:
    """The erasure, or None for a value that is not one (logged and skipped by the reader)."""
    try:
        return Erasure.model_validate_json(value)
    except ValidationError:
        return None


class KeyLog(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def wrapped(self, contact_id: str) -> WrappedKey | None:
        """The contact's current wrapped key as far as this reader has read."""
        ...

    def erasure(self, contact_id: str) -> Erasure | None: ...

    async def ready(self) -> None:
        """Return once both topics were read to their end at least once (at start), or raise
        KeyUnavailableError: before that, a missing erasure proves nothing."""
        ...

    async def catch_up(self) -> None:
        """Return once everything written before the call has been read, or raise
        KeyUnavailableError."""
        ...

    async def publish(self, contact_id: str, wrapped: WrappedKey) -> None:
        """Return once the key is durably on the topic (acks=all), or raise
        KeyUnavailableError."""
        ...

    async def tombstone(self, contact_id: str) -> None:
        """Shred the contact's key: a record with no value, then dropped from memory."""
        ...


class InMemoryKeyLog:
    """A `KeyLog` for unit tests: one shared dict stands for the topic, readable at once."""

    def __init__(self) -> None:
        self.keys: dict[str, WrappedKey] = {}
        self.erasures: dict[str, Erasure] = {}
        self.published: list[tuple[str, WrappedKey | None]] = []
        self.available = True
        self.writable = True  # False: reads work, publishing fails (a produce timing out)

    def _check(self) -> None:
        if not self.available:
            raise KeyUnavailableError("data keys: unavailable")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def wrapped(self, contact_id: str) -> WrappedKey | None:
        return self.keys.get(contact_id)

    def erasure(self, contact_id: str) -> Erasure | None:
        return self.erasures.get(contact_id)

    async def ready(self) -> None:
        self._check()

    async def catch_up(self) -> None:
        self._check()

    async def publish(self, contact_id: str, wrapped: WrappedKey) -> None:
        self._check()
        if not self.writable:
            raise KeyUnavailableError("data keys: produce timed out")
        self.keys[contact_id] = wrapped
        self.published.append((contact_id, wrapped))

    async def tombstone(self, contact_id: str) -> None:
        self._check()
        self.keys.pop(contact_id, None)
        self.published.append((contact_id, None))

    def erase(self, contact_id: str, erased_at: datetime, deletion_id: str = "del_1") -> None:
        self.erasures[contact_id] = Erasure(
            deletion_id=deletion_id, erased_at=erased_at, reason="customer_request"
        )
