"""The run: a scratch database, then rounds of every target in turn (the order reversed
every other round), and what the targets left in the `messages` table."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.harness.meter import settle
from bench.sink.pgbench import PGBENCH_TARGET, TABLE, pgbench_argv, pgbench_script, run_pgbench
from bench.sink.rows import Messages, inbound_rows
from bench.sink.targets import (
    COPY,
    EXECUTEMANY,
    STORE_BATCHED,
    WORKER,
    Run,
    copy,
    executemany,
    store_batched,
    store_each,
    timed,
)
from schemas.keys import Pseudonymizer
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from switchboard.stack.scratch import create_database, drop_database


@dataclass(frozen=True)
class Plan:
    single: int  # events for the one-a-transaction worker path, each round
    batched: int  # events for each batched target, each round
    pgbench_seconds: int
    rounds: int


@dataclass
class Results:
    info: list[tuple[str, str]]
    runs: list[Run] = field(default_factory=list)
    script: str = ""
    pgbench_argv: list[str] = field(default_factory=list)
    stored: int = 0  # rows in `messages` after every round

    @property
    def written(self) -> int:
        """Rows the targets wrote to `messages` (pgbench writes to a table of its own)."""
        return sum(r.rows for r in self.runs if r.target != PGBENCH_TARGET)


async def one_round(
    url: str, keys: Pseudonymizer, plan: Plan, argv: list[str], reverse: bool
) -> list[Run]:
    made = Messages(keys)
    database = await Database.connect(PoolConfig(url, size=1, max_overflow=0))
    store = ConversationStore(database, keys)
    conn = await asyncpg.connect(url)
    try:
        single, batched = made.batch(plan.single), made.batch(plan.batched)
        many = inbound_rows(made.batch(plan.batched))
        copied = inbound_rows(made.batch(plan.batched))
        targets: list[Callable[[], Awaitable[Run]]] = [
            lambda: timed(WORKER, len(single), store_each(store, single)),
            lambda: timed(STORE_BATCHED, len(batched), store_batched(store, batched)),
            lambda: timed(EXECUTEMANY, len(many), executemany(conn, many)),
            lambda: timed(COPY, len(copied), copy(conn, copied)),
            lambda: run_pgbench(argv),
        ]
        settle()
        runs = []
        for target in reversed(targets) if reverse else targets:
            run = await target()
            runs.append(run)
            print(
                f"  {run.target:<36} {run.rows:7d} rows {run.rate:10,.0f} rows/s",
                file=sys.stderr,
                flush=True,
            )
        return runs
    finally:
        await conn.close()
        await database.close()


async def prepare(url: str, keys: Pseudonymizer, plan: Plan, out: Results, folder: Path) -> None:
    """pgbench's table and script, and the server's version and durability settings."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"CREATE TABLE {TABLE} (LIKE messages INCLUDING DEFAULTS "
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


async def stored(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM messages"))
    finally:
        await conn.close()


async def measure(settings: Settings, plan: Plan, out: Results, folder: Path) -> None:
    server = settings.database_url.get_secret_value()
    name = f"bench_sink_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name, knowledge_base=False)
    try:
        keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
        await prepare(url, keys, plan, out, folder)
        for n in range(plan.rounds):
            print(f"round {n + 1} of {plan.rounds}", file=sys.stderr, flush=True)
            out.runs += await one_round(url, keys, plan, out.pgbench_argv, reverse=n % 2 == 1)
        out.stored = await stored(url)
    finally:
        await drop_database(server, url)
