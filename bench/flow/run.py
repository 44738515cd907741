"""One flow run: its topics, the stand-ins in this process, the worker and ingest as
children (all stopped and removed on the way out), then the phases in order, each printing
its figures to stderr as it ends."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import uvloop

from bench.flow.ceiling import ACK_EACH, CEILING, CEILING_TOPIC, ceiling
from bench.flow.end_to_end import EndToEnd, end_to_end
from bench.flow.messages import burst
from bench.flow.rig import Plan, Rig
from bench.flow.throughput import Throughput, quiesce, warm_up, worker_throughput
from bench.harness.customers import Customers
from bench.harness.kafka import Names, apply_topics, kafka_producer, remove_topics
from bench.harness.meter import cpu_cell, settle
from bench.harness.stats import ms
from bench.harness.watch import ActionWatch, Replies
from bench.harness.worker import (
    Children,
    child_env,
    ingest_ready,
    knowledge,
    meter,
    start_children,
)
from schemas.catalogue import ACTIONS
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens, run_standins


@dataclass
class Results:
    throughput: list[Throughput]
    latency: EndToEnd
    info: list[tuple[str, str]]


def progress(runs: Sequence[Throughput]) -> None:
    for run in runs:
        print(
            f"  {run.target:<26} {run.count:6d} in {run.seconds:7.2f} s  {run.rate:8.1f} msg/s"
            f"  {run.cpu_per_message:6.2f} ms CPU/msg  CPU {cpu_cell(run.cpu)}",
            file=sys.stderr,
            flush=True,
        )


def progress_latency(run: EndToEnd) -> None:
    total = run.latencies(run.replied)
    print(
        f"  end to end, {run.rate}/s: {len(total)}/{len(run.due)} replied  "
        f"p50 {ms(total, 0.5):7.1f} ms  p99 {ms(total, 0.99):7.1f} ms  "
        f"max {ms(total, 1.0):7.1f} ms  CPU {cpu_cell(run.cpu)}",
        file=sys.stderr,
        flush=True,
    )


async def phases(rig: Rig, session: aiohttp.ClientSession) -> tuple[list[Throughput], EndToEnd]:
    work = burst(rig.customers, rig.plan.messages, rig.keys, rig.names.prefix)
    print("warming up the worker (group join, first reply)", file=sys.stderr, flush=True)
    await warm_up(rig)
    settle()
    runs = await worker_throughput(rig, work)
    progress(runs)
    busy = await quiesce(rig)
    runs.append(await ceiling(rig, CEILING, each=False))
    runs.append(await ceiling(rig, ACK_EACH, each=True))
    progress(runs[-2:])
    if busy:
        runs[-2].notes.append(busy)
    latency = await end_to_end(rig, session)
    progress_latency(latency)
    return runs, latency


async def measure(
    settings: Settings,
    plan: Plan,
    names: Names,
    children: Children,
    urls: StandInURLs,
    *,
    profile: Path | None,
) -> Results:
    outcome, postgres = await knowledge(settings)
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    watch = ActionWatch(settings.kafka_bootstrap_servers, names.topic(ACTIONS))
    producer = kafka_producer(settings)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        await ingest_ready(session, children)
        await watch.start()
        await producer.start()
        try:
            rig = Rig(
                settings=settings,
                names=names,
                children=children,
                watch=watch,
                plan=plan,
                meter=meter(settings, children),
                replies=Replies(session, urls.chatwoot),
                producer=producer,
                customers=Customers(),
                keys=keys,
                outcome=outcome,
                profile=profile,
            )
            runs, latency = await phases(rig, session)
        finally:
            await producer.stop()
            await watch.stop()
    return Results(runs, latency, [("PostgreSQL", postgres)])


def run_bench(plan: Plan, settings: Settings, names: Names, profile: Path | None) -> Results:
    """Stand-ins, then the worker and ingest as children; everything stopped on the way out."""
    with (
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        tempfile.TemporaryDirectory(prefix="bench-flow-") as tmp,
        ExitStack() as stack,  # exits first: children, stand-ins, then the topics go
    ):
        stack.callback(lambda: print_removed(runner.run(remove_topics(settings, names))))
        runner.run(apply_topics(settings, names, [CEILING_TOPIC]))  # the worker needs them to start
        urls = stack.enter_context(run_standins(tokens=Tokens.from_settings(settings)))
        env = child_env(settings, names, urls, Path(tmp) / "worker-data")
        children = start_children(env, Path(tmp), stack)
        print(f"worker and ingest started; topics {names.prefix}*", file=sys.stderr)
        try:
            return runner.run(measure(settings, plan, names, children, urls, profile=profile))
        except BaseException:
            for child in (children.worker, children.ingest):
                print(f"--- {child.name} log (tail) ---\n{child.tail()}", file=sys.stderr)
            raise


def print_removed(removed: Sequence[str]) -> None:
    print(f"removed {len(removed)} topics of this run", file=sys.stderr)
