"""One run: the servers started as children, made ready, measured phase by phase and
stopped on exit, failure or interrupt (their logs' tails shown on failure)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import uvloop
from aiokafka.errors import KafkaError

from bench.harness.errors import BenchError
from bench.ingest.loops import Run, http_session
from bench.ingest.messages import Messages
from bench.ingest.phases import against_raw
from bench.ingest.plan import Plan
from bench.ingest.saturation import Saturated, Saturating, prepare_wrk, saturate
from bench.ingest.servers import Servers, make_keys, preflight, start_servers, wait_ready
from migrations.runner import migrate
from streams import topics
from switchboard.settings import Settings
from switchboard.stack import kafka_pid


async def prepare(settings: Settings, prefix: str, servers: Servers) -> Messages:
    """The topics and the data-key claims table; every server healthy and accepting a
    message; every customer's data key made. The messages to send from then on."""
    bootstrap = settings.kafka_bootstrap_servers
    try:
        await topics.apply(bootstrap, prefix, settings.switchboard_kafka_replication_factor)
    except KafkaError as exc:
        raise BenchError(f"Kafka at {bootstrap}: {exc}; is `switchboard stack up` done?") from exc
    await migrate(settings.database_url.get_secret_value())  # the data-key claims table
    messages = Messages()
    async with http_session(8) as session:
        for server in servers.all:
            await wait_ready(session, server)
        await preflight(session, servers.all)
        await make_keys(session, servers.ingest, messages)
    return messages


async def measure(
    settings: Settings, prefix: str, plan: Plan, servers: Servers, folder: Path
) -> tuple[list[Run], list[Saturated]]:
    messages = await prepare(settings, prefix, servers)
    broker = kafka_pid(settings)
    runs: list[Run] = []
    if plan.concurrency:
        runs = await against_raw(
            settings, prefix, plan=plan, messages=messages, broker_pid=broker, servers=servers
        )
    saturating = Saturating(prepare_wrk(folder), plan, broker, servers.redis_url)
    return runs, await saturate(saturating, servers.all)


def run_bench(plan: Plan, settings: Settings, prefix: str) -> tuple[list[Run], list[Saturated]]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as logs,
        ExitStack() as stack,  # exits first: servers stop before logs go
    ):
        servers = start_servers(settings, prefix, Path(logs), stack)
        names = ", ".join(server.name for server in servers.all)
        print(f"{names} serving; topics {prefix}*; measuring:", file=sys.stderr)
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(measure(settings, prefix, plan, servers, Path(logs)))
        except Exception:
            for server in servers.all:
                print(f"--- {server.name} log (tail) ---\n{server.tail()}", file=sys.stderr)
            raise
