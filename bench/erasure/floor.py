"""The floor: what an erasure cannot cost less than. The `postgres` target's statements
alone for one contact, and one tombstone on data-keys.v1 produced with acks=all."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bench.erasure.rig import Rig
from schemas.catalogue import DATA_KEYS
from sinks.postgres.contact_data import PostgresContactData

FLOOR_RUNS = 5  # contacts, each measured once


async def floor_postgres(rig: Rig, contacts: Sequence[int]) -> list[float]:
    """The `postgres` target's statements alone, for contacts that were not erased."""
    data = PostgresContactData(rig.database)
    times = []
    for contact in contacts:
        started = time.perf_counter()
        await data.delete_contact_rows(rig.contact_id(contact))
        times.append(time.perf_counter() - started)
    return times


async def floor_tombstone(rig: Rig, contacts: Sequence[int]) -> list[float]:
    topic = rig.names.topic(DATA_KEYS)
    times = []
    for contact in contacts:
        started = time.perf_counter()
        await rig.producer.send_and_wait(topic, None, key=rig.contact_id(contact).encode())
        times.append(time.perf_counter() - started)
    return times
