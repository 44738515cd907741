"""The worker variants side by side, each a fresh `switchboard worker` (or two) on topics
and a consumer group of its own, against stand-ins in a process of their own."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness.children import Child, spawn
from bench.harness.customers import Customers
from bench.harness.kafka import Names, apply_topics, kafka_producer, remove_topics
from bench.harness.standins import start_standins
from bench.harness.worker import child_env, knowledge, switchboard_command
from bench.lanes.rows import Row
from bench.lanes.scenarios import Run, destination_down, slow_model, warm_up
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens

LABEL = "bench-lanes"
LANES = "keyed lanes (window 64)"
BASELINE = "one record per partition (window 1)"
TWO = "keyed lanes, two worker processes"
# Each variant's partition window and number of worker processes.
VARIANTS = {LANES: ("64", 1), BASELINE: ("1", 1), TWO: ("64", 2)}
# Long enough for a second worker to join the group before anything is measured.
JOIN_SECONDS = 15.0


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    per_channel: int  # destination down: customers on WhatsApp, and as many on Chatwoot


def worker_env(
    settings: Settings, names: Names, urls: StandInURLs, window: str, tmp: Path
) -> dict[str, str]:
    """The worker with the chat-model stand-in as its model and this partition window."""
    return child_env(settings, names, urls, tmp / f"worker-{names.run}") | {
        "SWITCHBOARD_PARTITION_WINDOW": window,
        "SWITCHBOARD_LLM_MODEL": "openai:bench-model",
        "SWITCHBOARD_LLM_BASE_URL": urls.model_base_url,
        "SWITCHBOARD_LLM_API_KEY": Tokens.from_settings(settings).model,
        "SWITCHBOARD_FLOW_TIMEOUT_SECONDS": "120",
    }


def progress(rows: Sequence[Row]) -> None:
    for row in rows:
        print(f"  {row.scenario}: {row.time}", file=sys.stderr, flush=True)


async def scenarios(run: Run, name: str, plan: Plan, workers: Sequence[Child]) -> list[Row]:
    """The warm-up, the slow model at each size, and (one process only) a destination down."""
    customers = Customers()
    print(f"{name}: warming up", file=sys.stderr, flush=True)
    if len(workers) > 1:
        await asyncio.sleep(JOIN_SECONDS)
    await warm_up(run, customers)
    rows: list[Row] = []
    for count in plan.sizes:
        rows.append(await slow_model(run, name, customers, count))
        progress(rows[-1:])
    if len(workers) == 1:
        rows += await destination_down(run, name, customers, plan.per_channel)
        progress(rows[-2:])
    for worker in workers:
        worker.check()
    return rows


async def variant(
    settings: Settings, urls: StandInURLs, plan: Plan, name: str, *, tmp: Path
) -> list[Row]:
    window, processes = VARIANTS[name]
    names = Names(label=LABEL)
    await apply_topics(settings, names)
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    env = worker_env(settings, names, urls, window, tmp)
    with ExitStack() as stack:
        argv = switchboard_command("worker")
        workers = [
            spawn(f"worker-{names.run}-{n}", argv, env, tmp, stack) for n in range(processes)
        ]
        producer = kafka_producer(settings)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            await producer.start()
            try:
                pids = [worker.process.pid for worker in workers]
                run = Run(settings, urls, keys, session, producer, names.prefix, pids)
                rows = await scenarios(run, name, plan, workers)
            except BaseException:
                for worker in workers:
                    print(f"--- {worker.name} log (tail) ---\n{worker.tail()}", file=sys.stderr)
                raise
            finally:
                await producer.stop()
    removed = await remove_topics(settings, names)
    print(f"removed {len(removed)} topics of {name}", file=sys.stderr)
    return rows


async def measure(settings: Settings, plan: Plan, tmp: Path) -> list[Row]:
    """Every variant in turn, against one stand-ins process."""
    await knowledge(settings)  # the questions must reach the model: the knowledge base answers them
    rows: list[Row] = []
    with ExitStack() as stack:
        urls = await start_standins(settings, Names(label=LABEL), tmp, stack)
        for name in VARIANTS:
            rows += await variant(settings, urls, plan, name, tmp=tmp)
    return rows
