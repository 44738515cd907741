"""The contacts and their data, before anything is timed: a history sealed onto inbound.v1
and stored by the worker's own storage sink, the contacts to erase in the Chatwoot
stand-in, and one live message each that the worker handles for real."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence

import httpx

from bench.erasure.rig import ACCOUNT, Rig
from bench.harness.customers import message
from bench.harness.kafka import produce, start_at_end
from bench.harness.waiting import until_queried
from bench.harness.worker import START_SECONDS
from datakeys.keyring import KeyRing
from ingest.producer import to_records
from schemas.catalogue import INBOUND
from schemas.events import Event
from schemas.position import Position
from sinks.postgres.conversation_events import ConversationStore

STORE_BATCH = 2000
SEAL_CONCURRENCY = 32


async def seal_all(keyring: KeyRing, events: Sequence[Event]) -> list[Event]:
    """Sealed as ingest seals them; a contact's first event makes its key (claim + publish)."""
    gate = asyncio.Semaphore(SEAL_CONCURRENCY)

    async def one(event: Event) -> Event:
        async with gate:
            return await keyring.seal(event)

    firsts = {e.subject: e for e in reversed(events)}  # make every key first, concurrently
    await asyncio.gather(*(one(e) for e in firsts.values()))
    return [await keyring.seal(e) for e in events]


async def sealed_onto_inbound(rig: Rig, events: Sequence[Event]) -> list[Position]:
    sealed = await seal_all(rig.keyring, events)
    return await produce(rig.producer, to_records(sealed, rig.names.prefix))


async def fill(rig: Rig) -> tuple[int, float]:
    """~N events over the contacts, sealed onto inbound.v1 and stored; (events, seconds)."""
    started = time.perf_counter()
    store = ConversationStore(rig.database, rig.keys)
    wanted = rig.plan.contacts * rig.plan.events_per_contact
    total = 0
    while total < wanted:  # a batch at a time: 100k events would not fit in memory at once
        chunk = [
            message(
                rig.keys,
                rig.contacts[n % len(rig.contacts)],
                rig.next_message_id(),
                f"Where is my parcel? number {n}",
            )
            for n in range(total, min(wanted, total + STORE_BATCH))
        ]
        positions = await sealed_onto_inbound(rig, chunk)
        await store.write(list(zip(chunk, positions, strict=True)))
        total += len(chunk)
        if total % (10 * STORE_BATCH) == 0:
            print(f"  filled {total}/{wanted}", file=sys.stderr, flush=True)
    return total, time.perf_counter() - started


async def worker_starts_at_end(rig: Rig) -> None:
    """The worker's group starts after the filled records: they are stored already."""
    await start_at_end(rig.settings, rig.names.worker_group, INBOUND)


def seed_chatwoot(rig: Rig, contacts: Sequence[int]) -> None:
    """The contacts in the Chatwoot stand-in, so the `chatwoot` target does real HTTP."""
    with httpx.Client(base_url=rig.chatwoot, timeout=10) as client:
        for contact in contacts:
            client.post(
                "/_standin/chatwoot/contacts",
                json={
                    "account_id": ACCOUNT,
                    "id": contact,
                    "name": f"Customer {contact}",
                    "email": f"customer{contact}@example.org",
                    "phone_number": "+447700900000",
                    "custom_attributes": {"tier": "gold"},
                },
            ).raise_for_status()


async def live_messages(rig: Rig, contacts: Sequence[int], check: Callable[[], None]) -> float:
    """Each contact writes once more; the worker stores, answers and delivers it."""
    started = time.perf_counter()
    events = [
        message(rig.keys, c, rig.next_message_id(), "How long does delivery take?")
        for c in contacts
    ]
    await sealed_onto_inbound(rig, events)
    wanted = [rig.contact_id(c) for c in contacts]

    async def delivered() -> bool:
        async with rig.database.connection() as conn:
            done = await conn.fetchval(
                "SELECT count(DISTINCT a.contact_id) FROM actions a "
                "JOIN deliveries d USING (action_id) WHERE a.contact_id = ANY($1::text[])",
                wanted,
            )
        return int(done) == len(wanted)

    seconds = START_SECONDS + len(contacts) * 0.5
    await until_queried(delivered, seconds, "replies to the live messages", check)
    return time.perf_counter() - started
