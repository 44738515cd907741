"""Reading a record in the worker: decode, then open its personal data with the key ring.

A record that does not decode, or whose sealed data was tampered with, goes to the
dead-letter topic (its original, sealed bytes). An event of a contact that was forgotten at
or after its time is skipped: a replay writes nothing about them. A key that cannot be
looked up right now is waited for; redacting then would lose data that is still there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from faust.types import EventT
from pydantic import ValidationError

from schemas.events import Event, decode
from schemas.sealing import SealError
from streams.dead_letter import DeadLetters
from streams.keys.errors import KeyUnavailableError
from streams.keys.keyring import KeyRing
from streams.retry import backoff_seconds

log = structlog.get_logger(__name__)


async def read_event(
    record: EventT[bytes],
    keyring: KeyRing,
    dead_letters: DeadLetters,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Event | None:
    """The record's event in plaintext; None when it was skipped or dead-lettered."""
    try:
        event = decode(record.value)
    except ValidationError:
        await dead_letters.send(record, "undecodable")
        return None
    attempt = 0
    while True:
        try:
            opened = await keyring.open(event)
        except SealError:
            await dead_letters.send(record, "unopenable")
            return None
        except KeyUnavailableError:
            attempt += 1
            log.warning("data_keys_unavailable", event_id=event.id, attempt=attempt)
            await sleep(backoff_seconds(attempt, base=0.5, cap=10.0))
            continue
        if opened is None:
            log.info("erased_contact_skipped", event_id=event.id, type=event.type)
        return opened
