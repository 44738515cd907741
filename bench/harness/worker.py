"""The real `switchboard worker` and `switchboard ingest` as children of a benchmark, on the
run's own topics and consumer group, against the stand-ins."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness.children import HOST, Child, free_port, spawn
from bench.harness.errors import BenchError
from bench.harness.kafka import Names
from bench.harness.meter import Meter
from bench.harness.waiting import healthy
from bench.harness.watch import ActionWatch
from sinks.postgres.knowledge import PostgresRetriever
from sinks.postgres.pool import Database, PoolConfig
from streams.flow.graph import FlowInput, FlowOutcome
from streams.flow.runner import Flow
from switchboard import stack
from switchboard.settings import Settings
from switchboard.standins import StandInURLs
from tests.sample_questions import QUESTIONS

SECRET = "bench-chatwoot-webhook-secret"
START_SECONDS = 180.0  # worker start-up: group join, table recovery, the first reply
DRAIN_SECONDS = 300.0  # the longest a phase may take to finish


def child_env(settings: Settings, names: Names, urls: StandInURLs, data: Path) -> dict[str, str]:
    return os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "SWITCHBOARD_TOPIC_PREFIX": names.prefix,
        "SWITCHBOARD_WORKER_GROUP": names.worker_group,
        "SWITCHBOARD_WORKER_DATA_DIR": str(data),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
        "SWITCHBOARD_LLM_MODEL": "",  # the offline responder, whatever the shell says
        "CHATWOOT_WEBHOOK_SECRET": SECRET,
        "RATE_LIMIT_PER_MINUTE": str(10**9),
        **{key.upper(): value for key, value in urls.settings().items()},
    }


def switchboard_command(*args: str) -> list[str]:
    """`switchboard <args>` from this interpreter's environment."""
    return [str(Path(sys.executable).parent / "switchboard"), *args]


@dataclass(frozen=True)
class Children:
    worker: Child
    ingest: Child
    ingest_url: str

    def check(self) -> None:
        self.worker.check()
        self.ingest.check()


def start_children(env: dict[str, str], logs: Path, stack: ExitStack) -> Children:
    port = free_port()
    worker = spawn("worker", switchboard_command("worker"), env, logs, stack)
    argv = switchboard_command("ingest", "--host", HOST, "--port", str(port))
    ingest = spawn("ingest", argv, env, logs, stack)
    return Children(worker, ingest, f"http://{HOST}:{port}")


@dataclass(frozen=True)
class WorkerRig:
    """What every step of a run with the worker and ingest as children needs; each
    benchmark's rig adds its own."""

    settings: Settings
    names: Names
    children: Children
    watch: ActionWatch  # the worker's actions, as they arrive


async def ingest_ready(session: aiohttp.ClientSession, children: Children) -> None:
    await healthy(session, children.ingest_url, START_SECONDS, "ingest", children.check)


def meter(settings: Settings, children: Children) -> Meter:
    """The worker, ingest, the stack's Kafka and PostgreSQL, and this process."""
    running = {c.name: c.pid for c in stack.status(settings).components}
    return Meter(
        {
            "worker": children.worker.process.pid,
            "ingest": children.ingest.process.pid,
            "kafka": running.get("kafka"),
            "postgres": running.get("postgres"),
            "bench": os.getpid(),
        }
    )


async def knowledge(settings: Settings) -> tuple[FlowOutcome, str]:
    """The offline flow's answer to the first question (the ceiling's fixed outcome), after
    checking that every question gets a reply; and the PostgreSQL server's version."""
    url = settings.database_url.get_secret_value()
    database = await Database.connect(PoolConfig(url, size=1, max_overflow=0))
    try:
        flow = Flow(PostgresRetriever(database), None, 60, 0, settings.switchboard_kb_min_score)
        outcomes = [
            await flow.run(FlowInput(event_id="bench", text=q, channel="chatwoot"))
            for q in QUESTIONS
        ]
        async with database.connection() as conn:
            version = str(await conn.fetchval("SHOW server_version"))
    finally:
        await database.close()
    if any(outcome.kind != "reply" for outcome in outcomes):
        raise BenchError("the knowledge base does not answer; run `switchboard kb load kb`")
    return outcomes[0], version
