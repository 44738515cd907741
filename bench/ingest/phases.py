"""Bare and ingest driven by this process, closed loop then open loop, beside the raw
producer (the broker's share): the phases interleaved, so drift on a shared machine touches
every target alike."""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from bench.harness.meter import settle
from bench.ingest.cpu import cpu_during, disturbed
from bench.ingest.loops import (
    WARMUP,
    Call,
    Run,
    closed_loop,
    http_call,
    http_session,
    kafka_call,
    open_loop,
)
from bench.ingest.messages import Messages, encoded_events
from bench.ingest.plan import Plan
from bench.ingest.servers import WEBHOOK, Server, Servers
from ingest.producer import new_producer
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings

RAW = "raw producer"
WARM_CAP_RATE = 20_000  # requests pre-built per warm-up second: more than 2 cores serve
RAW_POOL = 2000  # distinct encoded events the raw producer cycles through


@dataclass
class Rig:
    """What every phase needs, and the processes whose CPU use each phase records."""

    plan: Plan
    messages: Messages
    raw: Call
    broker_pid: int | None

    async def measured(self, phase: Awaitable[Run], server: Server | None) -> Run:
        run, cpu = await cpu_during(phase, server, self.broker_pid)
        run.cpu = cpu
        run.notes += disturbed(cpu)
        return progress(run)


def progress(run: Run) -> Run:
    errors = f", {run.errors_total} errors" if run.errors_total else ""
    print(
        f"  {run.target:<12} {run.load:<15} {run.rate:8.0f} req/s  "
        f"p50 {run.ms(0.5):6.2f} ms  p99 {run.ms(0.99):7.2f} ms  CPU {run.cpu_cell}{errors}",
        file=sys.stderr,
        flush=True,
    )
    return run


async def http_closed(rig: Rig, server: Server, concurrency: int) -> Run:
    """Warm up, pre-build what thrice the warm-up rate needs (it is slower), then measure."""
    seconds, url = rig.plan.closed_seconds, server.url + WEBHOOK
    warm = rig.messages.take(math.ceil(WARM_CAP_RATE * rig.plan.warmup))
    settle()
    async with http_session(concurrency) as session:
        warmup = Run(WARMUP, "closed", concurrency)
        await closed_loop(http_call(session, url, warm), warmup, concurrency, rig.plan.warmup)
        signed = rig.messages.take(math.ceil(max(warmup.rate, 1000.0) * seconds * 3))
        del warm
        settle()
        run = Run(server.name, "closed", concurrency)
        phase = closed_loop(http_call(session, url, signed), run, concurrency, seconds)
        return await rig.measured(phase, server)


async def http_open(rig: Rig, server: Server) -> Run:
    plan, url = rig.plan, server.url + WEBHOOK
    warm = rig.messages.take(math.ceil(plan.rate * plan.warmup))
    signed = rig.messages.take(math.ceil(plan.rate * plan.open_seconds))
    settle()
    async with http_session(256) as session:
        warmup = Run(WARMUP, "open", plan.rate)
        await open_loop(http_call(session, url, warm), warmup, plan.rate, plan.warmup)
        run = Run(server.name, "open", plan.rate)
        phase = open_loop(http_call(session, url, signed), run, plan.rate, plan.open_seconds)
        return await rig.measured(phase, server)


async def raw_closed(rig: Rig, concurrency: int) -> Run:
    warmup = Run(WARMUP, "closed", concurrency)
    await closed_loop(rig.raw, warmup, concurrency, rig.plan.warmup)
    run = Run(RAW, "closed", concurrency)
    return await rig.measured(closed_loop(rig.raw, run, concurrency, rig.plan.closed_seconds), None)


async def raw_open(rig: Rig) -> Run:
    plan = rig.plan
    await open_loop(rig.raw, Run(WARMUP, "open", plan.rate), plan.rate, plan.warmup)
    run = Run(RAW, "open", plan.rate)
    return await rig.measured(open_loop(rig.raw, run, plan.rate, plan.open_seconds), None)


async def phases(rig: Rig, servers: Sequence[Server]) -> list[Run]:
    """Interleaved, so drift on a shared machine touches every target alike."""
    runs: list[Run] = []
    for concurrency in rig.plan.concurrency:
        for server in servers:
            runs.append(await http_closed(rig, server, concurrency))
        runs.append(await raw_closed(rig, concurrency))
    for server in servers:
        runs.append(await http_open(rig, server))
    runs.append(await raw_open(rig))
    return runs


async def against_raw(
    settings: Settings,
    prefix: str,
    *,
    plan: Plan,
    messages: Messages,
    broker_pid: int | None,
    servers: Servers,
) -> list[Run]:
    """Bare and ingest driven by this process, beside the raw producer."""
    timeout = settings.switchboard_produce_timeout_seconds
    producer = new_producer(settings.kafka_bootstrap_servers, timeout)  # as ingest's own
    await producer.start()
    try:
        keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
        raw = kafka_call(producer, encoded_events(messages.take(RAW_POOL), prefix, keys))
        rig = Rig(plan, messages, raw, broker_pid)
        return await phases(rig, (servers.bare, servers.ingest))
    finally:
        await producer.stop()
