"""Reading a record in the worker: decode, then open its personal data with the key ring.

A record that does not decode, or whose sealed data was tampered with, goes to the
dead-letter topic (its original, sealed bytes). An event of a contact that was forgotten at
or after its time is skipped: a replay writes nothing about them. A key that cannot be
looked up right now is waited for; redacting then would lose data that is still there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from pydantic import ValidationError

from datakeys.errors import KeyUnavailableError
from datakeys.keyring import KeyRing
from schemas.events import Event, decode
from schemas.sealing import SealError
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.faust_fixes import committed_offset
from streams.runtime.record_order import Order, Reader, in_order
from streams.runtime.types import App, Record, Stream
from switchboard import logs
from switchboard.retrying import backoff, retrying

log = structlog.get_logger(__name__)


async def read_event(
    record: Record,
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
    policy = retrying(
        backoff("dependency"),
        "open",
        transient=lambda exc: isinstance(exc, KeyUnavailableError),
        sleep=sleep,
        event="data_keys_unavailable",
        event_id=event.id,
    )
    try:
        opened: Event | None = await policy(keyring.open, event)
    except SealError:
        await dead_letters.send(record, "unopenable")
        return None
    if opened is None:
        log.info("erased_contact_skipped", event_id=event.id, type=event.type)
    return opened


async def decoded(
    stream: Stream,
    keyring: KeyRing,
    dead_letters: DeadLetters,
    order: Reader[Record] | None = None,
) -> AsyncIterator[tuple[Record, Event]]:
    """Events one by one, opened, acknowledged after the caller's work on them: those of
    forgotten contacts are skipped, records that cannot be read are dead-lettered. With an
    ``order``, each partition's records come in offset order (streams/runtime/record_order.py)."""
    manual = stream.noack()  # type: ignore[attr-defined]  # missing from StreamT
    records = manual.events()
    if order is not None:
        records = in_order(records, Order(), order)
    async for record in records:
        event = await read_event(record, keyring, dead_letters)
        if event is not None:
            # Ids and the record's place on every log line while it is handled.
            logs.bind_event(event, record.message.partition, record.message.offset)
            yield record, event
        await manual.ack(record)


def ordered_reader(app: App, noticed: Callable[[Any, int, int], None]) -> Reader[Record]:
    """How an ordered agent finds a record's place and reads a partition again from a record
    it never got; ``noticed(tp, missing, offset)`` hears of each gap."""
    consumer = app.consumer

    # ``tp``: the record's topic partition, as the consumer gives it.
    async def first_offset(tp: Any) -> int | None:
        return (await consumer.earliest_offsets(tp)).get(tp)

    async def read_again(tp: Any, offset: int) -> None:
        await consumer.seek(tp, offset)

    return Reader(
        place=lambda record: (record.message.tp, record.message.offset),
        committed=lambda tp: committed_offset(consumer, tp),
        read_again=read_again,
        first_offset=first_offset,
        noticed=noticed,
    )
