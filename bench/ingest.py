"""Signed WhatsApp webhook ingest, measured side by side with its ceilings in one run.

* bare: a FastAPI endpoint that only reads the body and answers 200, served by uvicorn in
  a subprocess with the options `switchboard ingest` uses: the ceiling of the web stack.
* ingest: the real `switchboard ingest` in a subprocess; every request is a distinct
  signed text message, answered 200 once Kafka acknowledged its event (acks=all).
* raw producer: an aiokafka producer configured as ingest's (acks=all, idempotent,
  linger 1 ms) sending the same encoded events from this process: the broker's share.
* seed: the design ingest replaced (bench/harness/seed.py): FastAPI, the same HMAC check and a
  Celery `.delay()` to a private Redis, one process: the yardstick for saturation.
* ingest x2: `switchboard ingest --workers 2`, for how ingest scales with processes.

Bare and ingest are driven closed-loop at several concurrency levels (maximum throughput),
then open-loop at a fixed rate with latency counted from each request's scheduled time, so a
stalled server cannot hide its queue (no coordinated omission). This process is the load
generator for those; it takes about a core itself. Then saturation: wrk (1 thread, a small
share of a core) sends one signed WhatsApp message over and over to each of the four, at 8
and 32 connections, as the reports against the seed design measured it. The servers are
children of this process and are stopped on exit, failure or interrupt. Needs `wrk` and
`redis-server` on PATH (Debian packages of those names).

    .venv/bin/python -m bench.ingest [--quick] [--prefix bench.]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import redis
import uvicorn
import uvloop
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bench.harness.children import HOST, Child, free_port, spawn
from bench.harness.errors import BenchError
from bench.harness.machine import machine
from bench.harness.meter import busy_seconds, cpu_seconds, settle
from bench.harness.report import markdown, number, run_reported
from bench.harness.seed import serve_seed, start_redis
from bench.harness.stats import ms as quantile_ms
from bench.harness.wrk import Saturation, Wrk, WrkError, whole_seconds
from ingest.normalise.whatsapp import normalise
from ingest.producer import Record, new_producer, to_records
from ingest.testing import whatsapp_headers, whatsapp_text_body
from migrations.runner import migrate
from schemas.keys import Pseudonymizer
from streams import topics
from switchboard.cli import load_settings
from switchboard.settings import Settings
from switchboard.stack import kafka_pid

T = TypeVar("T")

SECRET = "bench-whatsapp-app-secret"
WEBHOOK = "/webhooks/whatsapp"
RAW = "raw producer"
READY_SECONDS = 60.0
P99_TARGET_MS = 50.0
RATIO_TARGET = 0.5
WARM_CAP_RATE = 20_000  # requests pre-built per warm-up second: more than 2 cores serve
RAW_POOL = 2000  # distinct encoded events the raw producer cycles through
CONTACTS = 1000  # distinct customers: each gets its data key once, before timing
DISTURBED = 0.15  # share of a core used by processes outside the benchmark: flagged


SEED_P99_RATIO = 1.0  # ingest's p99 at 32 connections, at most the seed's
SEED_RATE_RATIO = 2.0  # ingest's throughput at 32 connections, at least twice the seed's
SATURATION_CONNECTIONS = 32
INGEST_WORKERS = 2


@dataclass(frozen=True)
class Plan:
    warmup: float  # seconds, before every phase, not measured
    closed_seconds: float
    open_seconds: float
    saturation_seconds: float
    rate: int = 500
    concurrency: tuple[int, ...] = (1, 8, 32)
    connections: tuple[int, ...] = (8, SATURATION_CONNECTIONS)  # wrk's


FULL = Plan(warmup=1.0, closed_seconds=8.0, open_seconds=10.0, saturation_seconds=10.0)
QUICK = Plan(warmup=0.3, closed_seconds=1.5, open_seconds=3.0, saturation_seconds=2.0)


# --- the bare endpoint (runs in its own subprocess) --------------------------------


def serve_bare(port: int) -> None:
    """The web stack alone, served exactly as `switchboard ingest` serves ingest."""
    app = FastAPI(title="bare")

    @app.post(WEBHOOK)
    async def webhook(request: Request) -> Response:
        await request.body()
        return JSONResponse({"status": "accepted", "events": 1, "ignored": 0})

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    uvicorn.run(
        app, host=HOST, port=port, access_log=False, proxy_headers=False, log_level="warning"
    )


# --- the servers under test ----------------------------------------------------------


@dataclass(frozen=True)
class Server(Child):
    """A child serving HTTP at `url`."""

    url: str


def start_server(
    name: str, argv: list[str], port: int, *, env: dict[str, str], logs: Path, stack: ExitStack
) -> Server:
    child = spawn(name, [*argv, str(port)], env, logs, stack, stop_seconds=10.0)
    return Server(child.name, child.process, child.log, f"http://{HOST}:{port}")


@dataclass(frozen=True)
class Servers:
    bare: Server
    seed: Server
    ingest: Server
    ingest_workers: Server
    redis_url: str

    @property
    def all(self) -> tuple[Server, ...]:
        return (self.bare, self.seed, self.ingest, self.ingest_workers)


def start_servers(settings: Settings, prefix: str, logs: Path, stack: ExitStack) -> Servers:
    """All with the same interpreter, so uvicorn picks the same loop and HTTP parser."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise BenchError("redis-server is not on PATH: apt-get install -y redis-server")
    redis_url = start_redis(redis_server, logs, stack)
    python = Path(sys.executable)
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        # Ingest claims new contacts' data keys there.
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "SWITCHBOARD_TOPIC_PREFIX": prefix,
        "WHATSAPP_APP_SECRET": SECRET,
        "RATE_LIMIT_PER_MINUTE": str(10**9),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
        "BENCH_REDIS_URL": redis_url,
    }
    script = [str(python), "-m", "bench.ingest"]
    switchboard = [str(python.parent / "switchboard"), "ingest", "--host", HOST]
    workers = [*switchboard, "--workers", str(INGEST_WORKERS), "--port"]

    def start(name: str, argv: list[str]) -> Server:
        return start_server(name, argv, free_port(), env=env, logs=logs, stack=stack)

    return Servers(
        bare=start("bare", [*script, "--serve-bare"]),
        seed=start("seed", [*script, "--serve-seed"]),
        ingest=start("ingest", [*switchboard, "--port"]),
        ingest_workers=start(f"ingest x{INGEST_WORKERS}", workers),
        redis_url=redis_url,
    )


async def healthy(session: aiohttp.ClientSession, server: Server) -> bool:
    if server.process.poll() is not None:
        raise BenchError(f"{server.name} exited with status {server.process.returncode}")
    with contextlib.suppress(aiohttp.ClientError):
        async with session.get(f"{server.url}/health") as response:
            return response.status == 200
    return False


async def wait_ready(session: aiohttp.ClientSession, server: Server) -> None:
    try:
        async with asyncio.timeout(READY_SECONDS):
            while True:
                if await healthy(session, server):
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise BenchError(f"{server.name} not healthy within {READY_SECONDS:g} s") from None


# --- what is sent --------------------------------------------------------------------

Signed = tuple[bytes, dict[str, str]]


class Messages:
    """Distinct signed text messages: a fresh wamid each, never sent twice in a run."""

    def __init__(self) -> None:
        self._tag = uuid.uuid4().hex[:8]
        self._numbers = itertools.count()

    def take(self, count: int) -> list[Signed]:
        signed: list[Signed] = []
        for n in itertools.islice(self._numbers, count):
            body = whatsapp_text_body(
                wamid=f"wamid.bench-{self._tag}-{n}",
                phone=f"1555{n % CONTACTS:07d}",  # customers spread over partitions
                text=f"Hello, where is my order {n}?",
            )
            signed.append((body, whatsapp_headers(SECRET, body)))
        return signed


def encoded_events(signed: Sequence[Signed], prefix: str, keys: Pseudonymizer) -> list[Record]:
    """The records ingest would write for these bodies: normalised, encoded, routed."""
    records: list[Record] = []
    for body, _ in signed:
        result = normalise(
            json.loads(body), source="whatsapp-cloud", keys=keys, correlation_id=uuid.uuid4().hex
        )
        records.extend(to_records(result.events, prefix))
    return records


# --- measuring ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    send: Callable[[int], Awaitable[str | None]]  # None on success, else what went wrong
    budget: int  # how many distinct requests it can send


@dataclass
class Run:
    target: str
    mode: str  # "closed": level is the concurrency; "open": level is the rate
    level: int
    latencies: list[float] = field(default_factory=list)  # seconds; successful calls
    errors: Counter[str] = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)  # open loop: dispatch behind schedule
    cpu: dict[str, float] = field(default_factory=dict)  # cores used, by process
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def load(self) -> str:
        return f"closed, c={self.level}" if self.mode == "closed" else f"open, {self.level}/s"

    @property
    def cpu_cell(self) -> str:
        return cpu_cell(self.cpu)

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def ms(self, quantile: float, values: Sequence[float] | None = None) -> float:
        return quantile_ms(self.latencies if values is None else values, quantile)


async def timed(call: Call, index: int, since: float, run: Run) -> None:
    try:
        error = await call.send(index)
    except (aiohttp.ClientError, KafkaError, OSError, TimeoutError) as exc:
        error = type(exc).__name__
    if error is None:
        run.latencies.append(time.perf_counter() - since)
    else:
        run.errors[error] += 1


async def closed_loop(call: Call, run: Run, concurrency: int, seconds: float) -> Run:
    """`concurrency` callers, each sending its next request as soon as one is answered."""
    indexes = iter(range(call.budget))  # shared: every request is sent once
    started = time.perf_counter()
    deadline = started + seconds

    async def caller() -> None:
        for index in indexes:
            now = time.perf_counter()
            if now >= deadline:
                return
            await timed(call, index, now, run)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    if run.elapsed < seconds:
        run.notes.append(f"ran out of {call.budget} pre-built requests after {run.elapsed:.1f} s")
    return run


async def open_loop(call: Call, run: Run, rate: int, seconds: float) -> Run:
    """Requests at fixed intervals whatever the answers; latency from the scheduled time."""
    start = time.perf_counter() + 0.01
    tasks: list[asyncio.Task[None]] = []
    for index in range(round(rate * seconds)):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.lag.append(time.perf_counter() - scheduled)
        tasks.append(asyncio.create_task(timed(call, index, scheduled, run)))
    await asyncio.gather(*tasks)
    run.elapsed = seconds
    return run


def http_call(session: aiohttp.ClientSession, url: str, signed: Sequence[Signed]) -> Call:
    async def send(index: int) -> str | None:
        body, headers = signed[index]
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return None if response.status == 200 else f"HTTP {response.status}"

    return Call(send, len(signed))


def kafka_call(producer: Any, records: Sequence[Record]) -> Call:
    """Send-and-ack of the same encoded events, cycled: the broker does not read them."""

    async def send(index: int) -> str | None:
        record = records[index % len(records)]
        sent = await producer.send(
            record.topic, key=record.key, value=record.value, headers=record.headers
        )
        await sent
        return None

    return Call(send, 10**12)


def http_session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=60),
        timeout=aiohttp.ClientTimeout(total=10),
    )


# --- phases ---------------------------------------------------------------------------

WARMUP = "warm-up"


def client_seconds() -> float:
    """This process's CPU time and that of its children that ended (each wrk run); the
    servers, children still running, are not counted."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


async def cpu_during(
    work: Awaitable[T], server: Server | None, broker_pid: int | None
) -> tuple[T, dict[str, float]]:
    """`work`'s result, and the share of a core each process used while it ran."""
    pids = {"server": server.process.pid if server else None, "broker": broker_pid}

    def used() -> dict[str, float]:
        return {
            **{name: cpu_seconds(pid) for name, pid in pids.items()},
            "client": client_seconds(),
        }

    before, busy, started = used(), busy_seconds(), time.perf_counter()
    result = await work
    wall = time.perf_counter() - started
    after = used()
    cpu = {name: (after[name] - was) / wall for name, was in before.items()}
    ours = sum(share for share in cpu.values() if not math.isnan(share))
    cpu["other"] = max(0.0, (busy_seconds() - busy) / wall - ours)
    return result, cpu


def disturbed(cpu: dict[str, float]) -> list[str]:
    if cpu["other"] > DISTURBED:
        return [f"other processes used {cpu['other']:.0%} of a core: disturbed"]
    return []


def cpu_cell(cpu: dict[str, float]) -> str:
    shares = (cpu.get(name, math.nan) for name in ("server", "broker", "client", "other"))
    return "/".join("-" if math.isnan(v) else f"{v * 100:.0f}" for v in shares)


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


async def preflight(session: aiohttp.ClientSession, servers: Sequence[Server]) -> None:
    """One signed message each before timing; ingest must accept it into Kafka."""
    for server in servers:
        ((body, headers),) = Messages().take(1)
        async with session.post(server.url + WEBHOOK, data=body, headers=headers) as response:
            answer = await response.text()
        if response.status != 200 or '"accepted"' not in answer:
            raise BenchError(f"{server.name} answered {response.status} {answer[:200]}")


async def make_keys(session: aiohttp.ClientSession, server: Server, messages: Messages) -> None:
    """One message from each customer before timing: each gets its data key once (a claim in
    PostgreSQL and a record on data-keys.v1), as a running desk's known customers have."""
    pending = messages.take(CONTACTS)

    async def sender() -> None:
        while pending:
            body, headers = pending.pop()
            async with session.post(server.url + WEBHOOK, data=body, headers=headers) as answer:
                if answer.status != 200:
                    raise BenchError(f"{server.name} answered {answer.status} making keys")

    await asyncio.gather(*(sender() for _ in range(8)))


# --- saturation: wrk, one body over and over ------------------------------------------


@dataclass(frozen=True)
class Saturated:
    result: Saturation
    cpu: dict[str, float]


def saturation_body() -> Signed:
    """One signed text message of a customer whose key exists (590 bytes, as reported):
    the same event, to the same partition, every time."""
    text = "Hello, I ordered a blue jacket last week and the tracking page for it has not changed "
    body = whatsapp_text_body(
        wamid=f"wamid.bench-{uuid.uuid4().hex[:8]}-wrk",
        phone=f"1555{0:07d}",
        text=text + "since Monday. Where is my parcel now, please?",
    )
    return body, whatsapp_headers(SECRET, body)


@dataclass
class Saturating:
    """What the saturation phases need: wrk, the machine's broker and the seed's Redis."""

    wrk: Wrk
    plan: Plan
    broker_pid: int | None
    redis_url: str

    async def run(self, server: Server, connections: int) -> Saturated:
        url = server.url + WEBHOOK
        await self.wrk.run(WARMUP, url, connections, self.plan.warmup)
        self.empty_queue()  # the seed's tasks pile up in Redis: no worker takes them
        settle()
        work = self.wrk.run(server.name, url, connections, self.plan.saturation_seconds)
        result, cpu = await cpu_during(work, server, self.broker_pid)
        self.empty_queue()
        print(
            f"  {server.name:<12} wrk, c={connections:<9} {result.rate:8.0f} req/s  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  max "
            f"{result.max_ms:7.2f} ms  CPU {cpu_cell(cpu)}",
            file=sys.stderr,
            flush=True,
        )
        return Saturated(result, cpu)

    def empty_queue(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()


async def saturate(saturating: Saturating, servers: Sequence[Server]) -> list[Saturated]:
    """Each server in turn at each connection count, so drift touches every one alike."""
    return [
        await saturating.run(server, connections)
        for connections in saturating.plan.connections
        for server in servers
    ]


async def measure(
    settings: Settings, prefix: str, plan: Plan, servers: Servers, folder: Path
) -> tuple[list[Run], list[Saturated]]:
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
    broker = kafka_pid(settings)
    runs: list[Run] = []
    if plan.concurrency:
        runs = await against_raw(
            settings, prefix, plan=plan, messages=messages, broker_pid=broker, servers=servers
        )
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not on PATH: apt-get install -y wrk")
    body, headers = saturation_body()
    tool = Wrk.prepare(wrk, folder, body, headers["X-Hub-Signature-256"])
    saturating = Saturating(tool, plan, broker, servers.redis_url)
    return runs, await saturate(saturating, servers.all)


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


# --- report ---------------------------------------------------------------------------


def description() -> list[tuple[str, str]]:
    accelerators = [m for m in ("uvloop", "httptools") if find_spec(m) is not None]
    stack = ", ".join(f"{n} {metadata.version(n)}" for n in ("fastapi", "uvicorn", *accelerators))
    return [
        *machine(),
        ("servers", f"{stack}; 1 worker, access log off"),
        ("client", f"aiohttp {metadata.version('aiohttp')} on uvloop, keep-alive pool"),
        ("producer", f"aiokafka {metadata.version('aiokafka')}, acks=all, idempotent, linger 1 ms"),
    ]


def results_table(runs: Sequence[Run]) -> list[str]:
    header = ["target", "load", "req/s", "p50 ms", "p99 ms", "max ms", "ok", "errors"]
    header += ["lag p99 ms", "CPU % srv/kafka/client/other"]
    rows = [
        [
            run.target,
            run.load,
            number(run.rate, 0),
            number(run.ms(0.5), 2),
            number(run.ms(0.99), 2),
            number(run.ms(1.0), 2),
            str(len(run.latencies)),
            str(run.errors_total),
            number(run.ms(0.99, run.lag), 2) if run.lag else "-",
            run.cpu_cell,
        ]
        for run in runs
    ]
    return markdown(header, rows, left=2)


def find(runs: Sequence[Run], target: str, mode: str) -> list[Run]:
    return [run for run in runs if run.target == target and run.mode == mode]


def ratio_table(runs: Sequence[Run]) -> list[str]:
    bare, ingest = find(runs, "bare", "closed"), find(runs, "ingest", "closed")
    raw = find(runs, RAW, "closed")
    rows = [
        [
            str(b.level),
            number(b.rate, 0),
            number(i.rate, 0),
            f"{i.rate / b.rate:.2f}",
            number(r.rate, 0),
        ]
        for b, i, r in zip(bare, ingest, raw, strict=True)
    ]
    header = ["concurrency", "bare req/s", "ingest req/s", "ingest/bare", "raw producer req/s"]
    return markdown(header, rows)


def verdicts(runs: Sequence[Run], plan: Plan) -> list[tuple[bool, str]]:
    (steady,) = find(runs, "ingest", "open")
    p99 = steady.ms(0.99)
    best_bare = max(run.rate for run in find(runs, "bare", "closed"))
    best_ingest = max(run.rate for run in find(runs, "ingest", "closed"))
    ratio = best_ingest / best_bare
    failed = sum(run.errors_total for run in runs if run.target == "ingest")
    return [
        (
            p99 < P99_TARGET_MS,
            f"ingest p99 at {plan.rate} req/s: {p99:.1f} ms (target < {P99_TARGET_MS:.0f} ms)",
        ),
        (
            ratio >= RATIO_TARGET,
            f"ingest throughput at its best concurrency: {best_ingest:,.0f} req/s = {ratio:.2f}"
            f" x bare's best {best_bare:,.0f} req/s (target >= {RATIO_TARGET:.2f})",
        ),
        (failed == 0, f"every ingest request answered 200: {failed} did not"),
    ]


def saturation_table(saturated: Sequence[Saturated]) -> list[str]:
    header = ["target", "connections", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    header += ["failed", "CPU % srv/kafka/wrk+client/other"]
    rows = [
        [
            s.result.target,
            str(s.result.connections),
            number(s.result.rate, 0),
            number(s.result.p50_ms, 2),
            number(s.result.p90_ms, 2),
            number(s.result.p99_ms, 2),
            number(s.result.max_ms, 2),
            str(s.result.failed),
            cpu_cell(s.cpu),
        ]
        for s in saturated
    ]
    return markdown(header, rows, left=1)


def at_saturation(saturated: Sequence[Saturated], target: str) -> Saturation:
    (found,) = (
        s.result
        for s in saturated
        if s.result.target == target and s.result.connections == SATURATION_CONNECTIONS
    )
    return found


def saturation_verdicts(saturated: Sequence[Saturated]) -> list[tuple[bool, str]]:
    """Ingest against the seed design at 32 connections, and one process against two."""
    seed, ingest = at_saturation(saturated, "seed"), at_saturation(saturated, "ingest")
    workers = at_saturation(saturated, f"ingest x{INGEST_WORKERS}")
    failed = sum(s.result.failed for s in saturated if s.result.target.startswith("ingest"))
    c = SATURATION_CONNECTIONS
    return [
        (
            ingest.p99_ms <= seed.p99_ms * SEED_P99_RATIO,
            f"ingest p99 at {c} connections: {ingest.p99_ms:.1f} ms against the seed design's "
            f"{seed.p99_ms:.1f} ms (target: at most the seed's)",
        ),
        (
            ingest.rate >= seed.rate * SEED_RATE_RATIO,
            f"ingest throughput at {c} connections: {ingest.rate:,.0f} req/s = "
            f"{ingest.rate / seed.rate:.2f} x the seed design's {seed.rate:,.0f} req/s "
            f"(target >= {SEED_RATE_RATIO:.1f})",
        ),
        (
            workers.rate > ingest.rate,
            f"ingest --workers {INGEST_WORKERS}: {workers.rate:,.0f} req/s = "
            f"{workers.rate / ingest.rate:.2f} x one process (target > 1: scales with processes"
            f"), p99 {workers.p99_ms:.1f} ms",
        ),
        (failed == 0, f"every ingest request under wrk answered 2xx: {failed} did not"),
    ]


def notes(runs: Sequence[Run]) -> list[str]:
    lines = [
        f"- {run.target} {run.load}: {', '.join(f'{k} x{v}' for k, v in run.errors.items())}"
        for run in runs
        if run.errors
    ]
    lines += [f"- {run.target} {run.load}: {note}" for run in runs for note in run.notes]
    return lines


def render(
    measured: tuple[list[Run], list[Saturated]],
    plan: Plan,
    info: Sequence[tuple[str, str]],
    started: datetime,
) -> tuple[str, bool]:
    runs, saturated = measured
    checks = saturation_verdicts(saturated) + (verdicts(runs, plan) if runs else [])
    lines = [
        f"# Ingest benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in info),
        "",
        *(closed_and_open(runs, plan) if runs else []),
        f"Saturation: wrk 4.x, 1 thread, {whole_seconds(plan.saturation_seconds)} s per phase "
        f"after a {whole_seconds(plan.warmup)} s warm-up, one signed "
        f"{len(saturation_body()[0])}-byte WhatsApp message sent over and over (one event, "
        "one partition); the seed design is FastAPI, "
        "the same HMAC check and a Celery `.delay()` to Redis (bench/harness/seed.py); "
        "failed counts "
        "answers outside 2xx and socket errors.",
        "",
        *saturation_table(saturated),
        "",
        *(f"{'PASS' if ok else 'FAIL'} {text}" for ok, text in checks),
    ]
    extra = notes(runs)
    if extra:
        lines += ["", "Notes:", *extra]
    return "\n".join(lines) + "\n", all(ok for ok, _ in checks)


def closed_and_open(runs: Sequence[Run], plan: Plan) -> list[str]:
    return [
        f"Closed loop: {plan.closed_seconds:g} s per phase; open loop: {plan.rate} req/s for "
        f"{plan.open_seconds:g} s, latency from each request's scheduled time; every phase "
        f"after a {plan.warmup:g} s warm-up; phases interleaved in one run. Latencies are of "
        "successful requests; lag is how far the client's dispatch fell behind schedule; CPU is "
        "each process's share of one core (100 = one core busy) for the server under test, "
        "the Kafka broker, this load generator (which hosts the raw producer) and every other "
        f"process on the machine; a phase where others used over {DISTURBED:.0%} is flagged.",
        "",
        *results_table(runs),
        "",
        *ratio_table(runs),
        "",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short run (~30 s), for smoke checks"
    )
    parser.add_argument("--prefix", default="bench.", help="topic prefix; its topics are applied")
    parser.add_argument(
        "--saturation-only", action="store_true", help="only the wrk phases (~2 minutes)"
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-seed", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if args.serve_seed:
        serve_seed(args.serve_seed, SECRET, os.environ["BENCH_REDIS_URL"])
        return 0
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: clean up
    plan = QUICK if args.quick else FULL
    if args.saturation_only:
        plan = replace(plan, concurrency=())
    started = datetime.now(UTC)
    info = description()

    def measure() -> tuple[str, bool]:
        return render(run_bench(plan, load_settings(), args.prefix), plan, info, started)

    return run_reported(
        "ingest", started, measure, (BenchError, WrkError), "the servers were stopped"
    )


if __name__ == "__main__":
    sys.exit(main())
