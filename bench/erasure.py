"""Erasure: time from the request to every target complete, beside the floor it cannot beat.

* set-up (not timed): a database and topic prefix of this run's own; the Chatwoot stand-in
  in this process (with an admin token) and `switchboard worker` as a child. The inbound
  topic is filled with ~100k sealed Chatwoot `message.received` events over many contacts
  (keys made by the real key ring, so data-keys.v1 holds one per contact), and their rows
  are written by the worker's own storage sink (`ConversationStore.write`) from here, in
  batches: the worker answers ~50 messages a second and would need half an hour. The
  worker's group starts at the topic's end. The contacts to be erased then each send one
  more message that the worker handles for real (state, reply, delivery), and exist in the
  Chatwoot stand-in, so the `chatwoot` target does real HTTP.
* one contact: a `gdpr_deletions` row then `erasure.requested` (acks=all), as the
  compliance API does; timed until the row reads `completed`. Several contacts, one after
  another.
* 1,000 at once: the same for every contact in one burst; timed until all are completed.
* floor: the `postgres` target's statements alone for one contact, and one tombstone
  produced with acks=all.
* physical removal: on a scratch compacted topic with short settings, a value is written and
  tombstoned; the broker's segment files are read until its bytes are gone.

    .venv/bin/python -m bench.erasure [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import shlex
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import psutil
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from bench.harness.children import Child, spawn
from bench.harness.customers import message
from bench.harness.errors import BenchError
from bench.harness.kafka import Names as RunNames
from bench.harness.kafka import remove_topics
from bench.harness.machine import load_generator_row, machine, worker_row
from bench.harness.report import ROOT, load_average, markdown, run_reported
from bench.harness.stats import ms
from bench.harness.worker import child_env, switchboard_command
from datakeys.build import master_keys
from datakeys.claims import PostgresClaims
from datakeys.kafka import KafkaKeyLog
from datakeys.keyring import KeyRing
from ingest.producer import to_records
from migrations.runner import migrate
from schemas.catalogue import (
    COMPACTION_BOUND_MS,
    CONTACT_EVENTS,
    DATA_KEYS,
    INBOUND,
)
from schemas.events import (
    Event,
    encode,
    kafka_headers,
)
from schemas.keys import Pseudonymizer
from schemas.position import Position
from sinks.postgres.contact_data import PostgresContactData
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.knowledge import load_directory
from sinks.postgres.pool import Database, PoolConfig
from streams import topics
from switchboard.cli import load_settings
from switchboard.logs import configure
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens, run_standins
from tests.fakes import chatwoot_payloads
from tests.integration.privacy_helpers import erasure_event

ADMIN_TOKEN = "bench-chatwoot-admin-token"
ACCOUNT = chatwoot_payloads.ACCOUNT_ID
ONE_TARGET_S = 10.0
POLL_SECONDS = 0.02
START_SECONDS = 180.0
STORE_BATCH = 2000
SEAL_CONCURRENCY = 32
FLOOR_RUNS = 5


@dataclass(frozen=True)
class Plan:
    contacts: int  # in the filled topics
    events_per_contact: int
    single: int  # one contact at a time, this many times
    burst: int  # contacts erased at once
    removal_seconds: float  # how long to watch the scratch topic's segments


FULL = Plan(contacts=2000, events_per_contact=50, single=5, burst=1000, removal_seconds=150.0)
QUICK = Plan(contacts=500, events_per_contact=10, single=3, burst=100, removal_seconds=150.0)


@dataclass(frozen=True)
class Names(RunNames):
    """Every topic, group and database of this run starts with `bench-erasure-<run>`."""

    label: str = "bench-erasure"

    @property
    def database(self) -> str:
        return f"bench_erasure_{self.run}"


# --- set-up ----------------------------------------------------------------------------------


def database_url(settings: Settings, name: str) -> str:
    return settings.database_url.get_secret_value().rsplit("/", 1)[0] + f"/{name}"


async def create_database(settings: Settings, names: Names) -> str:
    admin = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        await admin.execute(f'CREATE DATABASE "{names.database}"')
    finally:
        await admin.close()
    url = database_url(settings, names.database)
    await migrate(url)
    database = await Database.connect(PoolConfig(url, size=1, max_overflow=0))
    try:
        await load_directory(database, ROOT / "kb")  # the offline responder answers from it
    finally:
        await database.close()
    return url


async def drop_database(settings: Settings, names: Names) -> None:
    admin = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{names.database}" WITH (FORCE)')
    finally:
        await admin.close()


def worker_env(settings: Settings, names: Names, urls: StandInURLs, tmp: Path) -> dict[str, str]:
    """The worker benchmarks' environment, plus where exports go and the Chatwoot admin
    token the `chatwoot` erasure target uses."""
    return child_env(settings, names, urls, tmp / "worker-data") | {
        "SWITCHBOARD_EXPORT_DIR": str(tmp / "exports"),
        "CHATWOOT_ADMIN_TOKEN": ADMIN_TOKEN,
    }


async def seal_all(keyring: KeyRing, events: Sequence[Event]) -> list[Event]:
    """Sealed as ingest seals them; a contact's first event makes its key (claim + publish)."""
    gate = asyncio.Semaphore(SEAL_CONCURRENCY)

    async def one(event: Event) -> Event:
        async with gate:
            return await keyring.seal(event)

    firsts = {e.subject: e for e in reversed(events)}  # make every key first, concurrently
    await asyncio.gather(*(one(e) for e in firsts.values()))
    return [await keyring.seal(e) for e in events]


async def produce(
    producer: AIOKafkaProducer, events: Sequence[Event], prefix: str
) -> list[Position]:
    records = to_records(events, prefix)
    futures = [await producer.send(r.topic, r.value, key=r.key, headers=r.headers) for r in records]
    metas = await asyncio.gather(*futures)
    return [Position(m.topic, m.partition, m.offset) for m in metas]


async def commit_to_end(settings: Settings, names: Names) -> None:
    """The worker's group starts after the filled records: they are stored already."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=names.worker_group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        topic = names.topic(INBOUND)
        tps = [TopicPartition(topic, p) for p in range(INBOUND.partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.commit({tp: end for tp, end in ends.items()})
    finally:
        await consumer.stop()


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
    ids: list[int] = field(default_factory=list)

    def contact_id(self, contact: int) -> str:
        return self.keys.chatwoot_contact(ACCOUNT, contact)

    def next_message_id(self) -> int:
        self.ids[0] += 1
        return self.ids[0]


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
        sealed = await seal_all(rig.keyring, chunk)
        positions = await produce(rig.producer, sealed, rig.names.prefix)
        await store.write(list(zip(chunk, positions, strict=True)))
        total += len(chunk)
        if total % (10 * STORE_BATCH) == 0:
            print(f"  filled {total}/{wanted}", file=sys.stderr, flush=True)
    return total, time.perf_counter() - started


def seed_chatwoot(rig: Rig, contacts: Sequence[int]) -> None:
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


async def until(
    probe: Callable[[], Awaitable[bool]], seconds: float, check: Callable[[], None], what: str
) -> None:
    deadline = time.perf_counter() + seconds
    while not await probe():
        check()
        if time.perf_counter() > deadline:
            raise BenchError(f"{what}: not within {seconds:g} s")
        await asyncio.sleep(0.2)


async def live_messages(rig: Rig, contacts: Sequence[int], check: Callable[[], None]) -> float:
    """Each contact writes once more; the worker stores, answers and delivers it."""
    started = time.perf_counter()
    events = [
        message(rig.keys, c, rig.next_message_id(), "How long does delivery take?")
        for c in contacts
    ]
    await produce(rig.producer, await seal_all(rig.keyring, events), rig.names.prefix)
    wanted = [rig.contact_id(c) for c in contacts]

    async def delivered() -> bool:
        async with rig.database.connection() as conn:
            done = await conn.fetchval(
                "SELECT count(DISTINCT a.contact_id) FROM actions a "
                "JOIN deliveries d USING (action_id) WHERE a.contact_id = ANY($1::text[])",
                wanted,
            )
        return int(done) == len(wanted)

    await until(
        delivered, START_SECONDS + len(contacts) * 0.5, check, "replies to the live messages"
    )
    return time.perf_counter() - started


# --- timing erasures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Erased:
    deletion_id: str
    seconds: float  # request to completed
    targets: dict[str, float]  # target to seconds after the request


async def request(rig: Rig, contact_ids: Sequence[str]) -> list[str]:
    """As the compliance API: the pending row, then the event (acks=all)."""
    deletions = ["del_" + secrets.token_hex(16) for _ in contact_ids]
    async with rig.database.connection() as conn:
        await conn.executemany(
            "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status)"
            " VALUES ($1, $2, 'customer_request', 'bench', 'pending')",
            list(zip(deletions, contact_ids, strict=True)),
        )
    topic = rig.names.topic(CONTACT_EVENTS)
    futures = []
    for contact_id, deletion_id in zip(contact_ids, deletions, strict=True):
        event = erasure_event(contact_id, deletion_id, requested_by="bench")
        futures.append(
            await rig.producer.send(
                topic, encode(event), key=contact_id.encode(), headers=kafka_headers(event)
            )
        )
    await asyncio.gather(*futures)
    return deletions


async def completed(rig: Rig, deletions: Sequence[str]) -> int:
    async with rig.database.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM gdpr_deletions WHERE deletion_id = ANY($1::text[])"
                " AND status = 'completed'",
                list(deletions),
            )
        )


async def results(rig: Rig, deletions: Sequence[str], requested: datetime) -> list[Erased]:
    async with rig.database.connection() as conn:
        rows = await conn.fetch(
            "SELECT d.deletion_id, d.completed_at AS done, t.target, t.completed_at"
            " FROM gdpr_deletions d JOIN gdpr_deletion_targets t USING (deletion_id)"
            " WHERE d.deletion_id = ANY($1::text[])",
            list(deletions),
        )
    found: dict[str, Erased] = {}
    for row in rows:
        done = row["done"]
        entry = found.setdefault(
            row["deletion_id"],
            Erased(
                row["deletion_id"], (done - requested).total_seconds() if done else math.nan, {}
            ),
        )
        if row["completed_at"] is not None:
            entry.targets[row["target"]] = (row["completed_at"] - requested).total_seconds()
    return [found[d] for d in deletions if d in found]


async def erase(
    rig: Rig, contacts: Sequence[int], seconds: float, check: Callable[[], None]
) -> tuple[list[Erased], float, int]:
    """Request them all at once; (each one's times, wall seconds to the last, completed)."""
    ids = [rig.contact_id(c) for c in contacts]
    requested = datetime.now(UTC)
    started = time.perf_counter()
    deletions = await request(rig, ids)
    deadline = started + seconds
    done = 0
    while time.perf_counter() < deadline:
        done = await completed(rig, deletions)
        if done == len(deletions):
            break
        check()
        await asyncio.sleep(POLL_SECONDS if len(deletions) == 1 else 0.2)
    wall = time.perf_counter() - started
    return await results(rig, deletions, requested), wall, done


async def leftovers(rig: Rig, contacts: Sequence[int]) -> dict[str, int]:
    """What is left of the erased contacts: rows per table, and Chatwoot contacts not
    anonymised (each should be 0)."""
    ids = [rig.contact_id(c) for c in contacts]
    left: dict[str, int] = {}
    async with rig.database.connection() as conn:
        for table in ("messages", "conversations", "actions", "contact_identities"):
            left[table] = int(
                await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE contact_id = ANY($1::text[])",  # noqa: S608
                    ids,
                )
            )
    async with httpx.AsyncClient(base_url=rig.chatwoot, timeout=10) as client:
        listed = (await client.get("/_standin/chatwoot/contacts")).json()["contacts"]
    wanted = set(contacts)
    left["chatwoot contacts not anonymised"] = sum(
        1 for c in listed if c["id"] in wanted and not str(c["name"]).startswith("Deleted User")
    )
    return left


# --- the floor -------------------------------------------------------------------------------


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


# --- physical removal ------------------------------------------------------------------------


def kafka_data_dir(override: Path | None) -> Path | None:
    """The running broker's `log.dirs`, read from its server.properties."""
    if override is not None:
        return override
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if "kafka.Kafka" in argv:
            config = Path(argv[argv.index("kafka.Kafka") + 1])
            for line in config.read_text().splitlines():
                if line.startswith("log.dirs="):
                    return Path(line.split("=", 1)[1].split(",")[0])
    return None


SCRATCH = {
    "cleanup.policy": "compact",
    "segment.ms": "2000",
    "max.compaction.lag.ms": "2000",
    "min.compaction.lag.ms": "0",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "2000",
}


# The broker's defaults (server.properties sets neither): the cleaner sleeps this long when it
# found nothing to clean, and a cleaned segment's old file is renamed `*.deleted` and only
# removed this long after.
CLEANER_BACKOFF_MS = 15_000
FILE_DELETE_DELAY_MS = 60_000


def scratch_bound_s() -> float:
    """When a tombstoned value must be off the disk on the scratch topic, in seconds."""
    ms_ = int(SCRATCH["segment.ms"]) + int(SCRATCH["max.compaction.lag.ms"])
    return (ms_ + CLEANER_BACKOFF_MS + FILE_DELETE_DELAY_MS) / 1000


@dataclass(frozen=True)
class Removal:
    """Seconds from the tombstone until ..."""

    compacted: float | None  # ... no live segment (`*.log`) holds the value
    value_gone: float | None  # ... no file at all holds it (nor a `*.deleted` one)
    tombstone_gone: float | None  # ... no file holds the key any more
    watched: float
    folder: str


def holds(folder: Path, needle: bytes, *, deleted: bool) -> bool:
    """Whether a segment file holds the bytes; `deleted`: count files awaiting deletion."""
    for path in folder.iterdir():
        if ".index" in path.name or ".timeindex" in path.name:
            continue
        if path.name.endswith(".deleted") and not deleted:
            continue
        try:
            if needle in path.read_bytes():
                return True
        except OSError:
            continue  # the cleaner renamed or removed it meanwhile
    return False


async def physical_removal(rig: Rig, data_dir: Path, seconds: float) -> Removal:
    topic = f"{rig.names.prefix}scratch-compaction"
    admin = AIOKafkaAdminClient(bootstrap_servers=rig.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=SCRATCH)])
    finally:
        await admin.close()
    folder = data_dir / f"{topic}-0"
    key, value = f"bench-key-{uuid.uuid4().hex}".encode(), f"VALUE-{uuid.uuid4().hex}".encode()
    await rig.producer.send_and_wait(topic, value, key=key)
    await rig.producer.send_and_wait(topic, None, key=key)
    started = time.perf_counter()
    compacted = value_gone = tombstone_gone = None
    n = 0
    while time.perf_counter() - started < seconds and tombstone_gone is None:
        # Segments roll only on an append after segment.ms: keep a trickle of other keys.
        n += 1
        await rig.producer.send_and_wait(topic, b"filler", key=f"filler-{n % 3}".encode())
        await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        if compacted is None and not holds(folder, value, deleted=False):
            compacted = elapsed
        if value_gone is None and not holds(folder, value, deleted=True):
            value_gone = elapsed
        if value_gone is not None and not holds(folder, key, deleted=True):
            tombstone_gone = elapsed
    watched = time.perf_counter() - started
    return Removal(compacted, value_gone, tombstone_gone, watched, str(folder))


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Results:
    info: list[tuple[str, str]]
    filled: int = 0
    fill_seconds: float = 0.0
    live_seconds: float = 0.0
    single: list[Erased] = field(default_factory=list)
    burst: list[Erased] = field(default_factory=list)
    burst_wall: float = math.nan
    burst_done: int = 0
    floor_pg: list[float] = field(default_factory=list)
    floor_tombstone: list[float] = field(default_factory=list)
    removal: Removal | None = None
    left: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def phases(
    rig: Rig, out: Results, start_worker: Callable[[], Child], data_dir: Path | None
) -> None:
    plan = rig.plan
    single = rig.contacts[: plan.single]
    burst = rig.contacts[plan.single : plan.single + plan.burst]
    floor = rig.contacts[plan.single + plan.burst : plan.single + plan.burst + FLOOR_RUNS]
    print("filling the topics", file=sys.stderr, flush=True)
    out.filled, out.fill_seconds = await fill(rig)
    await commit_to_end(rig.settings, rig.names)
    seed_chatwoot(rig, [*single, *burst])
    check = start_worker().check
    print("worker handling one live message per contact to erase", file=sys.stderr, flush=True)
    out.live_seconds = await live_messages(rig, [*single, *burst], check)
    print("one contact at a time", file=sys.stderr, flush=True)
    for contact in single:
        erased, _, done = await erase(rig, [contact], 120.0, check)
        if done != 1:
            raise BenchError("an erasure did not complete within 120 s")
        out.single.extend(erased)
        print(f"  {erased[0].seconds:.2f} s", file=sys.stderr, flush=True)
    print(f"{len(burst)} contacts at once", file=sys.stderr, flush=True)
    out.burst, out.burst_wall, out.burst_done = await erase(rig, burst, 900.0, check)
    print(f"  {out.burst_done}/{len(burst)} in {out.burst_wall:.1f} s", file=sys.stderr)
    out.left = await leftovers(rig, [*single, *burst])
    out.floor_pg = await floor_postgres(rig, floor)
    out.floor_tombstone = await floor_tombstone(rig, floor)
    if data_dir is None:
        out.notes.append("physical removal not shown: the broker's log.dirs was not found")
    else:
        print("watching a tombstoned value leave the segment files", file=sys.stderr, flush=True)
        out.removal = await physical_removal(rig, data_dir, plan.removal_seconds)


async def measure(
    settings: Settings,
    plan: Plan,
    *,
    names: Names,
    urls: StandInURLs,
    out: Results,
    start_worker: Callable[[], Child],
    data_dir: Path | None,
) -> None:
    database = await Database.connect(PoolConfig(settings.database_url.get_secret_value(), size=4))

    async def db() -> Database:
        return database

    keylog = KafkaKeyLog(
        settings.kafka_bootstrap_servers,
        settings.switchboard_topic_prefix,
        settings.switchboard_produce_timeout_seconds,
    )
    claims = PostgresClaims(db, DATA_KEYS.full_name(settings.switchboard_topic_prefix))
    keyring = KeyRing(keylog, claims, master_keys(settings))
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    await keylog.start()
    await producer.start()
    try:
        base = 10**9 + uuid.uuid4().int % 10**9
        rig = Rig(
            settings,
            names,
            plan,
            database,
            Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode()),
            keyring,
            producer,
            urls.chatwoot,
            list(range(base, base + plan.contacts)),
            [base * 10],
        )
        await phases(rig, out, start_worker, data_dir)
    finally:
        await producer.stop()
        await keylog.stop()
        await database.close()


def run_bench(
    plan: Plan, settings: Settings, names: Names, out: Results, data_dir: Path | None
) -> None:
    """Database, topics, stand-in, then the worker as a child; all removed on the way out."""
    with (
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        tempfile.TemporaryDirectory(prefix="bench-erasure-") as tmp,
        ExitStack() as stack,  # exits first: the worker, the stand-in, then topics and database
    ):
        stack.callback(lambda: runner.run(drop_database(settings, names)))
        stack.callback(lambda: runner.run(remove_topics(settings, names)))
        url = runner.run(create_database(settings, names))
        own = settings.model_copy(
            update={
                "database_url": SecretStr(url),
                "switchboard_topic_prefix": names.prefix,
                "switchboard_worker_group": names.worker_group,
            }
        )
        try:
            runner.run(topics.apply(own.kafka_bootstrap_servers, names.prefix, 1))
        except KafkaError as exc:
            raise BenchError(f"Kafka at {own.kafka_bootstrap_servers}: {exc}") from exc
        tokens = replace(Tokens.from_settings(settings), chatwoot_admin=ADMIN_TOKEN)
        urls = stack.enter_context(run_standins(tokens=tokens))
        own = own.model_copy(update={"chatwoot_base_url": urls.chatwoot})
        env = worker_env(own, names, urls, Path(tmp))
        workers: list[Child] = []

        def start_worker() -> Child:
            workers.append(spawn("worker", switchboard_command("worker"), env, Path(tmp), stack))
            return workers[-1]

        try:
            runner.run(
                measure(
                    own,
                    plan,
                    names=names,
                    urls=urls,
                    out=out,
                    start_worker=start_worker,
                    data_dir=data_dir,
                )
            )
        except BaseException:
            for child in workers:
                print(f"--- worker log (tail) ---\n{child.tail(40)}", file=sys.stderr)
            raise


# --- report ----------------------------------------------------------------------------------


def _s(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def target_table(erased: Sequence[Erased]) -> list[str]:
    names = sorted({t for e in erased for t in e.targets}, key=lambda t: TARGET_ORDER.get(t, 9))
    header = ["", *names, "completed"]
    rows = []
    for label, pick in (("p50 s", 0.5), ("max s", 1.0)):
        cells = [label]
        for name in names:
            values = [e.targets[name] for e in erased if name in e.targets]
            cells.append(_s(ms(values, pick) / 1000))
        cells.append(_s(ms([e.seconds for e in erased], pick) / 1000))
        rows.append(cells)
    return markdown(header, rows)


TARGET_ORDER = {
    "data-key": 0,
    "consent": 1,
    "conversation-state": 2,
    "exports": 3,
    "chatwoot": 4,
    "postgres": 5,
}


def removal_lines(removal: Removal | None) -> list[str]:
    bound = COMPACTION_BOUND_MS / 1000
    lines = [
        f"Physical removal bound (schemas/catalogue.py): `COMPACTION_BOUND_MS` = {bound:,.0f} s "
        f"({bound / 3600:g} h) for data-keys.v1: segment.ms {DATA_KEYS.config['segment.ms']} ms "
        f"+ max.compaction.lag.ms {DATA_KEYS.config['max.compaction.lag.ms']} ms"
        "; on top come the cleaner's back-off (15 s) and file.delete.delay.ms (60 s) before the "
        "old segment file leaves the disk; the tombstone itself "
        f"stays delete.retention.ms {DATA_KEYS.config['delete.retention.ms']} ms more.",
        "",
    ]
    if removal is None:
        return lines
    scratch = ", ".join(f"{k}={v}" for k, v in SCRATCH.items())
    lines.append(
        f"Shown on a scratch topic ({scratch}), reading the files in `{removal.folder}` every "
        f"0.5 s: the value left the live segments (`*.log`) {_s(removal.compacted, 1)} s after "
        f"the tombstone, and every file, including the cleaner's `*.deleted` leftovers, "
        f"{_s(removal.value_gone, 1)} s after it; the tombstone's key was gone after "
        f"{_s(removal.tombstone_gone, 1)} s (watched {removal.watched:.0f} s). Bound on this "
        f"topic: segment.ms + max.compaction.lag.ms + the cleaner's back-off "
        f"({CLEANER_BACKOFF_MS // 1000} s) + file.delete.delay.ms ({FILE_DELETE_DELAY_MS // 1000} "
        f"s) = {scratch_bound_s():g} s. A segment rolls only when a record is appended after "
        "segment.ms, so the bound holds while the topic's partition keeps being written to "
        "(here a record every 0.5 s)."
    )
    return lines


def verdicts(out: Results, plan: Plan) -> list[tuple[bool, str]]:
    worst = max((e.seconds for e in out.single), default=math.nan)
    removal = out.removal
    bound_s = scratch_bound_s()
    checks = [
        (
            worst < ONE_TARGET_S,
            f"one contact, every target complete: max {worst:.2f} s over {len(out.single)} "
            f"(target < {ONE_TARGET_S:g} s, Chatwoot stand-in included)",
        ),
        (
            out.burst_done == plan.burst,
            f"{out.burst_done}/{plan.burst} contacts erased at once completed "
            f"in {out.burst_wall:.1f} s",
        ),
    ]
    checks.append(
        (
            bool(out.left) and not any(out.left.values()),
            "nothing left of the erased contacts: "
            + ", ".join(f"{name} {count}" for name, count in out.left.items()),
        )
    )
    if removal is not None:
        checks.append(
            (
                removal.value_gone is not None and removal.value_gone <= bound_s,
                f"a tombstoned value's bytes off the disk within the scratch topic's bound: "
                f"{_s(removal.value_gone, 1)} s (bound {bound_s:g} s)",
            )
        )
    return checks


def render(out: Results, plan: Plan, started: datetime) -> tuple[str, bool]:
    single = [e.seconds for e in out.single]
    burst = [e.seconds for e in out.burst if not math.isnan(e.seconds)]
    rate = out.burst_done / out.burst_wall if out.burst_wall else math.nan
    pg, tomb = out.floor_pg, out.floor_tombstone
    checks = verdicts(out, plan)
    lines = [
        f"# Erasure benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in out.info),
        "",
        method(out, plan),
        "",
        *markdown(
            ["measure", "count", "p50 s", "p99 s", "max s", "note"],
            [
                [
                    "one contact (request -> completed)",
                    str(len(single)),
                    _s(ms(single, 0.5) / 1000),
                    _s(ms(single, 0.99) / 1000),
                    _s(ms(single, 1.0) / 1000),
                    f"median {_s(statistics.median(single)) if single else '-'} s",
                ],
                [
                    f"{plan.burst} at once, per deletion",
                    str(len(burst)),
                    _s(ms(burst, 0.5) / 1000),
                    _s(ms(burst, 0.99) / 1000),
                    _s(ms(burst, 1.0) / 1000),
                    f"{rate:,.1f} erasures/s",
                ],
                [
                    "floor: the postgres target's SQL alone",
                    str(len(pg)),
                    _s(ms(pg, 0.5), 1) + " ms",
                    "",
                    _s(ms(pg, 1.0), 1) + " ms",
                    "in milliseconds",
                ],
                [
                    "floor: one tombstone, acks=all",
                    str(len(tomb)),
                    _s(ms(tomb, 0.5), 1) + " ms",
                    "",
                    _s(ms(tomb, 1.0), 1) + " ms",
                    "in milliseconds",
                ],
            ],
        ),
        "",
        "When each target completed, seconds after the request (one contact at a time):",
        "",
        *target_table(out.single),
        "",
        f"The same for the {plan.burst} requested at once:",
        "",
        *target_table(out.burst),
        "",
        *removal_lines(out.removal),
        "",
        *(f"{'PASS' if ok else 'FAIL'} {text}" for ok, text in checks),
        "",
        "Notes:",
        "- The history was stored by the worker's storage sink called from this script, not by "
        "the worker (~50 msg/s); every erased contact's last message went through the worker.",
        "- A single erasure that takes ~1-2 s had its conversation-state target still waiting "
        "for the converse agent's report when the contacts agent first drove it; the worker's "
        "erasure timer (every 2 s, `ERASURE_TIMER_SECONDS`) finished it.",
        *(f"- {n}" for n in out.notes),
    ]
    return "\n".join(lines) + "\n", all(ok for ok, _ in checks)


def method(out: Results, plan: Plan) -> str:
    return (
        f"Set-up: {out.filled:,} sealed Chatwoot `message.received` events over "
        f"{plan.contacts:,} contacts ({plan.events_per_contact} each, one conversation each) "
        f"produced to inbound.v1 and stored with the worker's storage sink in "
        f"{out.fill_seconds:.0f} s; the worker's group starts at the topic's end. The "
        f"{plan.single + plan.burst} contacts to erase then each sent one more message the worker "
        f"stored, answered and delivered ({out.live_seconds:.0f} s), and exist in the Chatwoot "
        "stand-in. A request is a `gdpr_deletions` row then `erasure.requested` on "
        "contact-events.v1 (acks=all), as the compliance API makes it; time runs from just "
        "before the row to `completed_at` of the deletion and of each target (PostgreSQL's "
        "clock, same machine). One contact: requested one after another, each after the last "
        f"completed. Burst: {plan.burst} requested together; erasures/s is their number over the "
        "time to the last completed (polled every 0.2 s). Floor: `delete_contact_rows` (the "
        "`postgres` target's statements in one transaction) for contacts with the same history, "
        "and one tombstone on data-keys.v1 produced with acks=all; each "
        f"{FLOOR_RUNS} times."
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5,000 events, 3 single erasures, 100 at once, for smoke checks",
    )
    parser.add_argument(
        "--kafka-data",
        type=Path,
        default=None,
        help="the broker's log.dirs (default: read from the running broker's server.properties)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    plan = QUICK if args.quick else FULL
    started = datetime.now(UTC)
    configure("WARNING", json_output=False, stream=sys.stderr)  # no line per key made
    out = Results([*machine(), worker_row(), load_generator_row()])

    def measure() -> tuple[str, bool]:
        run_bench(plan, load_settings(), Names(), out, kafka_data_dir(args.kafka_data))
        out.info.append(("load average at the end", load_average()))
        return render(out, plan, started)

    return run_reported("erasure", started, measure, (BenchError,), "the worker was stopped")


if __name__ == "__main__":
    sys.exit(main())
