"""What a run works with: its plan, its names, and the rig every phase is handed (the run's
database, its contacts' keys and key ring, a producer)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from bench.harness.kafka import Names as RunNames
from bench.harness.kafka import kafka_producer
from datakeys.build import build_keyring
from datakeys.keyring import KeyRing
from schemas.keys import Pseudonymizer
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from tests.fakes import chatwoot_payloads

ACCOUNT = chatwoot_payloads.ACCOUNT_ID


@dataclass(frozen=True)
class Plan:
    contacts: int  # in the filled topics
    events_per_contact: int
    single: int  # one contact at a time, this many times
    burst: int  # contacts erased at once
    removal_seconds: float  # how long to watch the scratch topic's segments


@dataclass(frozen=True)
class Names(RunNames):
    """Every topic, group and database of this run starts with `bench-erasure-<run>`."""

    label: str = "bench-erasure"

    @property
    def database(self) -> str:
        return f"bench_erasure_{self.run}"


@dataclass
class Rig:
    settings: Settings  # pointing at this run's database and topics
    names: Names
    plan: Plan
    database: Database
    keys: Pseudonymizer
    keyring: KeyRing
    producer: AIOKafkaProducer
    chatwoot: str
    contacts: list[int]  # Chatwoot contact ids, also their conversation ids
    message_ids: Iterator[int]

    def contact_id(self, contact: int) -> str:
        return self.keys.chatwoot_contact(ACCOUNT, contact)

    def next_message_id(self) -> int:
        return next(self.message_ids)


@asynccontextmanager
async def open_rig(settings: Settings, names: Names, plan: Plan) -> AsyncIterator[Rig]:
    """The rig on `settings` (the run's own), its contacts numbered from a fresh base; closed
    on the way out."""
    database = await Database.connect(PoolConfig(settings.database_url.get_secret_value(), size=4))

    async def db() -> Database:
        return database

    keyring = build_keyring(settings, db)
    kafka = kafka_producer(settings, linger_ms=5)  # the fill goes in bulk
    base = 10**9 + uuid.uuid4().int % 10**9
    try:
        await keyring.start()
        await kafka.start()
        yield Rig(
            settings,
            names,
            plan,
            database,
            Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode()),
            keyring,
            kafka,
            settings.chatwoot_base_url,
            list(range(base, base + plan.contacts)),
            itertools.count(base * 10 + 1),
        )
    finally:
        await kafka.stop()
        await keyring.stop()
        await database.close()
