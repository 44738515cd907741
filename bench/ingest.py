"""Signed WhatsApp webhook ingest, measured side by side with its ceilings in one run.

* bare: a FastAPI endpoint that only reads the body and answers 200, served by uvicorn in
  a subprocess with the options `switchboard ingest` uses: the ceiling of the web stack.
* ingest: the real `switchboard ingest` in a subprocess; every request is a distinct
  signed text message, answered 200 once Kafka acknowledged its event (acks=all).
* raw producer: an aiokafka producer configured as ingest's (acks=all, idempotent,
  linger 1 ms) sending the same encoded events from this process: the broker's share.

Each is driven closed-loop at several concurrency levels (maximum throughput), then
open-loop at a fixed rate with latency counted from each request's scheduled time, so a
stalled server cannot hide its queue (no coordinated omission). This process is the load
generator; the servers are its children and are stopped on exit, failure or interrupt.

    .venv/bin/python bench/ingest.py [--quick] [--prefix bench.]
"""

# ruff: noqa: E402 - the path must be fixed before the project's packages are imported

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder heads sys.path and its name would shadow the
# `ingest` package it measures: the project root takes its place.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import re
import shlex
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from importlib.util import find_spec
from typing import Any

import aiohttp
import uvicorn
import uvloop
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bench.processes import (
    CLOCK_TICKS,
    HOST,
    busy_seconds,
    die_with_parent,
    free_port,
    settle,
    stop,
)
from bench.report import load_average, markdown, number, revision, run_reported
from ingest.normalise.whatsapp import normalise
from ingest.producer import Record, to_records
from ingest.testing import whatsapp_headers, whatsapp_text_body
from migrations.runner import migrate
from schemas.keys import Pseudonymizer
from streams import topics
from switchboard.cli import load_settings
from switchboard.settings import Settings
from switchboard.stack import kafka_pid

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


@dataclass(frozen=True)
class Plan:
    warmup: float  # seconds, before every phase, not measured
    closed_seconds: float
    open_seconds: float
    rate: int = 500
    concurrency: tuple[int, ...] = (1, 8, 32)


FULL = Plan(warmup=1.0, closed_seconds=8.0, open_seconds=10.0)
QUICK = Plan(warmup=0.3, closed_seconds=1.5, open_seconds=3.0)


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


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
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"


def spawn(
    name: str, argv: list[str], port: int, *, env: dict[str, str], logs: Path, stack: ExitStack
) -> Server:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
            [*argv, str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this process only; it stops them
            preexec_fn=die_with_parent,  # noqa: PLW1509 - spawned before any thread
        )
    stack.callback(stop, process)
    return Server(name, f"http://{HOST}:{port}", process, log)


def start_servers(
    settings: Settings, prefix: str, logs: Path, stack: ExitStack
) -> tuple[Server, Server]:
    """Both with the same interpreter, so uvicorn picks the same loop and HTTP parser."""
    python = Path(sys.executable)
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        # Ingest claims new contacts' data keys there.
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "SWITCHBOARD_TOPIC_PREFIX": prefix,
        "WHATSAPP_APP_SECRET": SECRET,
        "RATE_LIMIT_PER_MINUTE": str(10**9),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
    }
    bare = [str(python), str(Path(__file__).resolve()), "--serve-bare"]
    ingest = [str(python.parent / "switchboard"), "ingest", "--host", HOST, "--port"]
    return (
        spawn("bare", bare, free_port(), env=env, logs=logs, stack=stack),
        spawn("ingest", ingest, free_port(), env=env, logs=logs, stack=stack),
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
        names = ("server", "broker", "client", "other")
        shares = (self.cpu.get(name, math.nan) for name in names)
        return "/".join("-" if math.isnan(v) else f"{v * 100:.0f}" for v in shares)

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def ms(self, quantile: float, values: Sequence[float] | None = None) -> float:
        ordered = sorted(self.latencies if values is None else values)
        if not ordered:
            return math.nan
        rank = min(len(ordered) - 1, max(0, math.ceil(quantile * len(ordered)) - 1))
        return ordered[rank] * 1000


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


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time a process has used; NaN when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text() if pid else ""
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return math.nan


@dataclass
class Rig:
    """What every phase needs, and the processes whose CPU use each phase records."""

    plan: Plan
    messages: Messages
    raw: Call
    broker_pid: int | None

    async def measured(self, phase: Awaitable[Run], server: Server | None) -> Run:
        pids = {"server": server.process.pid if server else None, "broker": self.broker_pid}
        pids["client"] = os.getpid()
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy, started = busy_seconds(), time.perf_counter()
        run = await phase
        wall = time.perf_counter() - started
        run.cpu = {name: (cpu_seconds(pids[name]) - was) / wall for name, was in before.items()}
        ours = sum(share for share in run.cpu.values() if not math.isnan(share))
        run.cpu["other"] = max(0.0, (busy_seconds() - busy) / wall - ours)
        if run.cpu["other"] > DISTURBED:
            run.notes.append(f"other processes used {run.cpu['other']:.0%} of a core: disturbed")
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


async def measure(
    settings: Settings, prefix: str, plan: Plan, servers: Sequence[Server]
) -> list[Run]:
    bootstrap = settings.kafka_bootstrap_servers
    try:
        await topics.apply(bootstrap, prefix, settings.switchboard_kafka_replication_factor)
    except KafkaError as exc:
        raise BenchError(f"Kafka at {bootstrap}: {exc}; is `switchboard stack up` done?") from exc
    await migrate(settings.database_url.get_secret_value())  # the data-key claims table
    messages = Messages()
    async with http_session(8) as session:
        for server in servers:
            await wait_ready(session, server)
        await preflight(session, servers)
        await make_keys(session, servers[1], messages)
    producer = AIOKafkaProducer(  # as ingest.producer.KafkaEventLog configures its own
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=int(settings.switchboard_produce_timeout_seconds * 1000),
        linger_ms=1,
    )
    await producer.start()
    try:
        keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
        raw = kafka_call(producer, encoded_events(messages.take(RAW_POOL), prefix, keys))
        return await phases(Rig(plan, messages, raw, kafka_pid(settings)), servers)
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


def machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    kafka = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    accelerators = [m for m in ("uvloop", "httptools") if find_spec(m) is not None]
    stack = ", ".join(f"{n} {metadata.version(n)}" for n in ("fastapi", "uvicorn", *accelerators))
    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("CPU", models[0] if models else platform.processor() or "unknown"),
        ("kernel", platform.release()),
        ("load average at start", load_average()),
        ("Python", platform.python_version()),
        ("revision", revision()),
        ("Kafka", kafka.group(1) if kafka else "unknown"),
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


def notes(runs: Sequence[Run]) -> list[str]:
    lines = [
        f"- {run.target} {run.load}: {', '.join(f'{k} x{v}' for k, v in run.errors.items())}"
        for run in runs
        if run.errors
    ]
    lines += [f"- {run.target} {run.load}: {note}" for run in runs for note in run.notes]
    return lines


def render(
    runs: Sequence[Run], plan: Plan, info: Sequence[tuple[str, str]], started: datetime
) -> tuple[str, bool]:
    checks = verdicts(runs, plan)
    lines = [
        f"# Ingest benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in info),
        "",
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
        *(f"{'PASS' if ok else 'FAIL'} {text}" for ok, text in checks),
    ]
    extra = notes(runs)
    if extra:
        lines += ["", "Notes:", *extra]
    return "\n".join(lines) + "\n", all(ok for ok, _ in checks)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short run (~30 s), for smoke checks"
    )
    parser.add_argument("--prefix", default="bench.", help="topic prefix; its topics are applied")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_bench(plan: Plan, settings: Settings, prefix: str) -> list[Run]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as logs,
        ExitStack() as stack,  # exits first: servers stop before logs go
    ):
        servers = start_servers(settings, prefix, Path(logs), stack)
        print(f"bare and ingest serving; topics {prefix}*; measuring:", file=sys.stderr)
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(measure(settings, prefix, plan, servers))
        except Exception:
            for server in servers:
                print(f"--- {server.name} log (tail) ---\n{server.tail()}", file=sys.stderr)
            raise


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: clean up
    plan = QUICK if args.quick else FULL
    started = datetime.now(UTC)
    info = machine()

    def measure() -> tuple[str, bool]:
        return render(run_bench(plan, load_settings(), args.prefix), plan, info, started)

    return run_reported("ingest", started, measure, (BenchError,), "the servers were stopped")


if __name__ == "__main__":
    sys.exit(main())
