"""The conversation worker, measured side by side with its ceiling in one run.

* worker: the real `switchboard worker` in a subprocess with the offline responder (no
  model), on a fresh topic prefix and consumer group. N pre-encoded Chatwoot
  `message.received` events (questions the knowledge base answers, over 200
  conversations) go straight to the inbound topic; the rate is N over the time from the
  first one produced to the N-th action on the actions topic.
* ceiling: a plain aiokafka loop in this process over the same inbound records, with its
  own consumer group: consume, decode, build the same reply action with a fixed outcome,
  encode, produce (acks=all), commit. Once with the batch's acks awaited together, once
  with each ack awaited before the next record, as the worker does; each the median of
  three runs.
* end to end: the real `switchboard ingest` in a subprocess; signed Chatwoot
  `message_created` webhooks at a steady rate, each in its own conversation, timed from
  the moment each POST is due to the reply reaching the Chatwoot stand-in.

The stand-ins run in this process (`run_standins`); the worker and ingest are its children
and are stopped on exit, failure or interrupt. The run's topics are deleted at the end.
`--profile` samples the worker with py-spy during its phase.

    .venv/bin/python -m bench.flow [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.harness.customers import Customers
from bench.harness.errors import BenchError
from bench.harness.kafka import Names, apply_topics, kafka_producer, produce, remove_topics
from bench.harness.machine import load_generator_row, machine, worker_row
from bench.harness.meter import CPU_NAMES, Meter, cpu_cell, own_cpu_seconds, settle
from bench.harness.report import RESULTS, markdown, number, run_reported
from bench.harness.stats import ms
from bench.harness.waiting import until, within
from bench.harness.watch import ActionWatch, Replies
from bench.harness.worker import (
    DRAIN_SECONDS,
    SECRET,
    START_SECONDS,
    Children,
    WorkerRig,
    child_env,
    ingest_ready,
    knowledge,
    meter,
    start_children,
)
from ingest.normalise.chatwoot import normalise
from ingest.producer import Record, to_records
from ingest.testing import chatwoot_headers
from schemas.catalogue import ACTIONS, INBOUND
from schemas.events import (
    MessageReceived,
    decode,
    encode,
    kafka_headers,
)
from schemas.keys import Pseudonymizer
from streams.conversation.actions import actions_for
from streams.flow.graph import FlowOutcome
from switchboard.cli import load_settings
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens, run_standins
from tests.sample_questions import QUESTIONS

T = TypeVar("T")

WEBHOOK = "/webhooks/chatwoot"
CONVERSATIONS = 200  # the throughput burst is spread over this many conversations
RATIO_TARGET = 0.5
P99_TARGET_MS = 1000.0
POLL_SECONDS = 0.02  # how often the Chatwoot stand-in's record is read while timing
IDLE = 0.1  # share of a core under which the worker counts as idle
DISTURBED = 0.15  # share of a core used by processes outside the benchmark: flagged
# The ceiling writes here, not to actions.v1, which the worker would deliver.
CEILING_TOPIC = replace(ACTIONS, name="ceiling-actions.v1")
CEILING_RUNS = 3
WORKER = "worker"
CEILING = "ceiling, batch acks"


@dataclass(frozen=True)
class Plan:
    messages: int  # N, for the worker and the ceiling
    rate: int  # end to end: webhooks per second
    seconds: float  # end to end: for how long


FULL = Plan(messages=2000, rate=20, seconds=20.0)
QUICK = Plan(messages=200, rate=20, seconds=10.0)


# --- what is sent --------------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    """Encoded inbound records, the event id each one's action answers, and where it goes."""

    records: list[Record]
    ids: list[str]
    conversations: Counter[int]


def burst(customers: Customers, count: int, keys: Pseudonymizer, prefix: str) -> Burst:
    conversations = customers.conversations(min(count, CONVERSATIONS))
    records: list[Record] = []
    ids: list[str] = []
    spread: Counter[int] = Counter()
    for n in range(count):
        conversation = conversations[n % len(conversations)]
        question = QUESTIONS[(n + n // len(conversations)) % len(QUESTIONS)]
        body = json.loads(customers.body(conversation, question))
        events = normalise(body, keys=keys, correlation_id=uuid.uuid4().hex, delivery_id=None)
        (event,) = events.events
        records.extend(to_records([event], prefix))
        ids.append(event.id)
        spread[conversation] += 1
    return Burst(records, ids, spread)


Signed = tuple[int, bytes, dict[str, str]]  # conversation, body, headers


def signed_webhooks(customers: Customers, count: int) -> list[Signed]:
    """One message each in a conversation of its own; signed now (300 s tolerance)."""
    signed: list[Signed] = []
    for n, conversation in enumerate(customers.conversations(count)):
        body = customers.body(conversation, QUESTIONS[n % len(QUESTIONS)])
        signed.append((conversation, body, chatwoot_headers(SECRET, body)))
    return signed


# --- the phases ------------------------------------------------------------------------------


@dataclass
class Throughput:
    target: str
    count: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    twice: int = 0  # actions or replies written more than once

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_per_message(self) -> float:
        """Milliseconds of CPU per message of the process doing the work: the worker, or
        this process for the ceilings."""
        share = self.cpu.get("bench" if self.target.startswith("ceiling") else "worker")
        return math.nan if share is None else share * self.seconds * 1000 / self.count


@dataclass
class EndToEnd:
    rate: int
    due: dict[int, float] = field(default_factory=dict)  # conversation -> POST due
    answered: dict[int, float] = field(default_factory=dict)  # ingest's 200 "accepted"
    replied: dict[int, float] = field(default_factory=dict)  # reply seen at the stand-in
    replies: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)  # dispatch behind schedule
    polls: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    def latencies(self, until: dict[int, float]) -> list[float]:
        return [until[c] - due for c, due in self.due.items() if c in until]


@dataclass(frozen=True)
class Rig(WorkerRig):
    """What every phase needs."""

    plan: Plan
    meter: Meter
    replies: Replies
    producer: AIOKafkaProducer
    customers: Customers
    keys: Pseudonymizer
    outcome: FlowOutcome
    profile: Path | None  # py-spy's samples of the worker during its phase go here


async def deliveries(rig: Rig, expected: Counter[int], seconds: float) -> float:
    """When (perf_counter) the stand-in had every expected reply, read every 0.25 s."""
    deadline = time.perf_counter() + seconds
    while True:
        await rig.replies.poll()
        if rig.replies.total(expected) >= expected.total():
            return time.perf_counter()
        rig.children.check()
        if time.perf_counter() > deadline:
            raise BenchError(f"replies at the Chatwoot stand-in: not all within {seconds:g} s")
        await asyncio.sleep(0.25)


async def warm_up(rig: Rig) -> None:
    """One message through the worker, action and delivery, before anything is timed."""
    one = burst(rig.customers, 1, rig.keys, rig.names.prefix)
    await produce(rig.producer, one.records)
    check = rig.children.check
    await until(lambda: rig.watch.has(one.ids), START_SECONDS, "the worker's first action", check)
    await deliveries(rig, one.conversations, START_SECONDS)


@contextlib.asynccontextmanager
async def profiled(pid: int, output: Path | None) -> AsyncIterator[None]:
    """py-spy sampling `pid` meanwhile, when an output file is given: only while it holds
    the GIL, so the samples show where its CPU goes. Each sample pauses it briefly (without
    pausing, half-read stacks lose their callers under load)."""
    if output is None:
        yield
        return
    spy = shutil.which("py-spy", path=Path(sys.executable).parent) or shutil.which("py-spy")
    if spy is None:
        raise BenchError("--profile needs py-spy: `uv pip install --python .venv py-spy`")
    argv = [spy, "record", "--pid", str(pid), "--format", "raw", "--nolineno", "--gil"]
    argv += ["--rate", "100", "--output", str(output)]
    spying = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    await asyncio.sleep(1.0)  # attached
    try:
        yield
    finally:
        spying.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        try:
            await asyncio.wait_for(spying.wait(), 30)
        except TimeoutError:
            spying.kill()
            await spying.wait()


async def worker_throughput(rig: Rig, work: Burst) -> list[Throughput]:
    """First record produced to N-th action; then on to the N-th reply delivered."""

    async def timed() -> tuple[float, float]:
        started = time.perf_counter()
        await produce(rig.producer, work.records)
        check = rig.children.check
        await until(lambda: rig.watch.has(work.ids), DRAIN_SECONDS, "the worker's actions", check)
        return started, max(rig.watch.arrived[i] for i in work.ids)

    async def whole() -> tuple[Throughput, float]:
        async with profiled(rig.children.worker.process.pid, rig.profile):
            (started, last), cpu = await rig.meter.around(timed())
        kinds = ", ".join(f"{kind} x{n}" for kind, n in sorted(rig.watch.kinds.items()))
        actions = Throughput(WORKER, len(work.ids), last - started, cpu, [f"actions: {kinds}"])
        delivered = await deliveries(rig, work.conversations, DRAIN_SECONDS)
        return actions, delivered - started

    (actions, seconds), cpu = await rig.meter.around(whole())
    actions.twice = rig.watch.repeated
    through = Throughput("worker, to the stand-in", len(work.ids), seconds, cpu)
    through.notes.append("until the N-th reply reached the Chatwoot stand-in, read every 0.25 s")
    through.twice = rig.replies.total(work.conversations) - len(work.ids)
    return [actions, through]


async def fetch(consumer: AIOKafkaConsumer) -> list[Any]:
    batches = await consumer.getmany(timeout_ms=1000, max_records=500)
    return list(itertools.chain.from_iterable(batches.values()))


async def respond(rig: Rig, producer: AIOKafkaProducer, value: bytes) -> list[Awaitable[Any]]:
    """Decode, the same actions the worker would write for a fixed outcome, encode, send."""
    message = decode(value)
    if not isinstance(message, MessageReceived):
        return []
    topic = rig.names.topic(CEILING_TOPIC)
    return [
        await producer.send(
            topic, key=a.subject.encode(), value=encode(a), headers=kafka_headers(a)
        )
        for a in actions_for(message, rig.outcome, datetime.now(UTC))
    ]


async def ceiling_loop(
    rig: Rig, kafka: tuple[AIOKafkaConsumer, AIOKafkaProducer], records: list[Any], each: bool
) -> tuple[int, float]:
    """From the first fetch on: respond to every record, wait for the acks, commit."""
    consumer, producer = kafka
    started, done, total = time.perf_counter(), 0, rig.plan.messages + 1  # + the warm-up
    while True:
        pending: list[Awaitable[Any]] = []
        for record in records:
            sent = await respond(rig, producer, record.value)
            if each:
                await asyncio.gather(*sent)
            else:
                pending.extend(sent)
        await asyncio.gather(*pending)
        await consumer.commit()
        done += len(records)
        if done >= total:
            return done, time.perf_counter() - started
        records = await fetch(consumer)


async def quiesce(rig: Rig, seconds: float = 30.0) -> str | None:
    """Wait until the worker idles (its store agent may trail the burst), so the ceilings
    get the cores to themselves; a note if it did not within `seconds`."""
    pid = rig.children.worker.process.pid
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        before = own_cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if (own_cpu_seconds(pid) - before) / 0.5 < IDLE:
            return None
        rig.children.check()
    return f"the worker was still busy {seconds:g} s after the burst"


def find(runs: Sequence[Throughput], target: str) -> Throughput:
    (run,) = (run for run in runs if run.target == target)
    return run


async def ceiling(rig: Rig, target: str, *, each: bool) -> Throughput:
    """The median of a few runs, each with a group of its own: they last under a second."""
    runs = [await ceiling_once(rig, target, each, attempt) for attempt in range(CEILING_RUNS)]
    runs.sort(key=lambda run: run.rate)
    median = runs[len(runs) // 2]
    rates = ", ".join(f"{run.rate:,.0f}" for run in runs)
    median.notes.append(f"median of {len(runs)} runs over the same records: {rates} msg/s")
    return median


async def ceiling_once(rig: Rig, target: str, each: bool, attempt: int) -> Throughput:
    bootstrap = rig.settings.kafka_bootstrap_servers
    consumer = AIOKafkaConsumer(
        rig.names.topic(INBOUND),
        bootstrap_servers=bootstrap,
        group_id=rig.names.ceiling_group(f"{'each' if each else 'batch'}-{attempt}"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await consumer.start()
    await producer.start()
    try:
        await producer.partitions_for(rig.names.topic(CEILING_TOPIC))  # metadata, untimed
        async with asyncio.timeout(DRAIN_SECONDS):
            first: list[Any] = []
            while not first:  # joining the group is not timed
                first = await fetch(consumer)
            loop = ceiling_loop(rig, (consumer, producer), first, each)
            (done, seconds), cpu = await rig.meter.around(loop)
    finally:
        await producer.stop()
        await consumer.stop()
    return Throughput(target, done, seconds, cpu)


async def post(session: aiohttp.ClientSession, url: str, item: Signed, run: EndToEnd) -> None:
    conversation, body, headers = item
    try:
        async with session.post(url, data=body, headers=headers) as response:
            answer = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        run.errors[type(exc).__name__] += 1
        return
    if response.status != 200:
        run.errors[f"HTTP {response.status}"] += 1
    elif '"accepted"' not in answer:
        run.errors["not accepted"] += 1
    else:
        run.answered[conversation] = time.perf_counter()


async def open_loop(
    session: aiohttp.ClientSession, url: str, signed: Sequence[Signed], run: EndToEnd
) -> None:
    """A POST every 1/rate seconds whatever the answers; each timed from when it was due."""
    start = time.perf_counter() + 0.01
    tasks: list[asyncio.Task[None]] = []
    for index, item in enumerate(signed):
        due = start + index / run.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.lag.append(time.perf_counter() - due)
        run.due[item[0]] = due
        tasks.append(asyncio.create_task(post(session, url, item, run)))
    await asyncio.gather(*tasks)


async def end_to_end(rig: Rig, session: aiohttp.ClientSession) -> EndToEnd:
    url, replies = rig.children.ingest_url + WEBHOOK, rig.replies
    await replies.reset()  # the burst's replies: reading them back would cost every poll
    warm = EndToEnd(rig.plan.rate)
    await post(session, url, signed_webhooks(rig.customers, 1)[0], warm)
    if warm.errors:
        raise BenchError(f"ingest refused the warm-up webhook: {dict(warm.errors)}")
    await deliveries(rig, Counter(warm.answered.keys()), START_SECONDS)
    signed = signed_webhooks(rig.customers, round(rig.plan.rate * rig.plan.seconds))
    settle()
    run = EndToEnd(rig.plan.rate)
    replies.polls.clear()
    follower = asyncio.create_task(replies.follow(POLL_SECONDS))

    async def timed() -> None:
        await open_loop(session, url, signed, run)
        await within(lambda: replies.arrived.keys() >= run.due.keys(), 30, rig.children.check)

    try:
        _, run.cpu = await rig.meter.around(timed())
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    await asyncio.sleep(1.0)  # a reply sent twice would arrive about now
    await replies.poll()
    run.replied = {c: replies.arrived[c] for c in run.due if c in replies.arrived}
    run.replies = Counter({c: replies.counts[c] for c in run.due})
    run.polls = list(replies.polls)
    return run


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Results:
    throughput: list[Throughput]
    latency: EndToEnd
    info: list[tuple[str, str]]


async def phases(rig: Rig, session: aiohttp.ClientSession) -> tuple[list[Throughput], EndToEnd]:
    work = burst(rig.customers, rig.plan.messages, rig.keys, rig.names.prefix)
    print("warming up the worker (group join, first reply)", file=sys.stderr, flush=True)
    await warm_up(rig)
    settle()
    runs = await worker_throughput(rig, work)
    progress(runs)
    busy = await quiesce(rig)
    runs.append(await ceiling(rig, CEILING, each=False))
    runs.append(await ceiling(rig, "ceiling, ack each", each=True))
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


# --- report ----------------------------------------------------------------------------------


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


def throughput_table(runs: Sequence[Throughput]) -> list[str]:
    best = find(runs, CEILING).rate
    header = ["target", "messages", "seconds", "msg/s", "x ceiling", "CPU ms/msg"]
    header.append("CPU % " + "/".join(CPU_NAMES))
    rows = [
        [
            run.target,
            str(run.count),
            number(run.seconds, 2),
            number(run.rate),
            f"{run.rate / best:.3f}",
            number(run.cpu_per_message, 2),
            cpu_cell(run.cpu),
        ]
        for run in runs
    ]
    return markdown(header, rows)


def latency_table(run: EndToEnd) -> list[str]:
    spans = [
        ("POST due -> reply at the stand-in", run.latencies(run.replied)),
        ("POST due -> ingest's 200", run.latencies(run.answered)),
        (
            "ingest's 200 -> reply at the stand-in",
            [run.replied[c] - run.answered[c] for c in run.replied if c in run.answered],
        ),
    ]
    header = ["span", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    rows = [
        [name, str(len(values)), *(number(ms(values, q)) for q in (0.5, 0.9, 0.99, 1.0))]
        for name, values in spans
    ]
    return markdown(header, rows)


def verdicts(runs: Sequence[Throughput], latency: EndToEnd) -> list[tuple[bool, str]]:
    worker, best = find(runs, WORKER), find(runs, CEILING)
    ratio = worker.rate / best.rate
    p99 = ms(latency.latencies(latency.replied), 0.99)
    missing = len(latency.due) - len(latency.replied)
    twice = sum(run.twice for run in runs) + sum(n - 1 for n in latency.replies.values() if n)
    refused = latency.errors.total()
    return [
        (
            ratio >= RATIO_TARGET,
            f"worker throughput: {worker.rate:,.1f} msg/s = {ratio:.3f} x the ceiling's "
            f"{best.rate:,.1f} msg/s ({best.target}) (target >= {RATIO_TARGET:.2f})",
        ),
        (
            p99 < P99_TARGET_MS and missing == 0,
            f"end-to-end p99 at {latency.rate} webhooks/s: {p99:,.1f} ms "
            f"(target < {P99_TARGET_MS:,.0f} ms), {missing} without a reply",
        ),
        (
            twice == 0 and refused == 0 and missing == 0,
            f"every message answered exactly once: {refused} webhooks refused, "
            f"{missing} unanswered, {twice} actions or replies repeated",
        ),
    ]


def notes(runs: Sequence[Throughput], latency: EndToEnd) -> list[str]:
    lines = [f"- {run.target}: {note}" for run in runs for note in run.notes]
    lines += [
        f"- {run.target}: other processes used {run.cpu['other']:.0%} of a core: disturbed"
        for run in runs
        if run.cpu.get("other", 0.0) > DISTURBED
    ]
    if latency.cpu.get("other", 0.0) > DISTURBED:
        lines.append(f"- end to end: other processes used {latency.cpu['other']:.0%}: disturbed")
    if latency.errors:
        lines.append(f"- end to end: {', '.join(f'{k} x{v}' for k, v in latency.errors.items())}")
    lag, polls = latency.lag, latency.polls
    lines.append(
        f"- end to end: {len(latency.due)} webhooks; client lag p99 {number(ms(lag, 0.99), 2)} ms; "
        f"the stand-in's record read {len(polls)} times, p50 {number(ms(polls, 0.5), 2)} ms, "
        f"p99 {number(ms(polls, 0.99), 2)} ms a read; "
        f"CPU % {'/'.join(CPU_NAMES)}: {cpu_cell(latency.cpu)}"
    )
    return lines


def method(plan: Plan) -> str:
    return (
        f"Throughput: {plan.messages} Chatwoot `message.received` events (knowledge-base "
        f"questions over {min(plan.messages, CONVERSATIONS)} conversations), pre-encoded and "
        "produced straight to the inbound topic after a one-message warm-up; the worker's "
        "time runs from the first produced to the N-th action fetched from the actions topic. "
        "The ceilings read the same inbound records (plus the warm-up's) with their own "
        "consumer groups, timed from their first fetch: decode, `actions_for` with a fixed "
        "reply outcome, encode, produce (acks=all, linger 0, as the worker's Faust producer), "
        "commit per fetched batch; `batch acks` awaits a batch's acks together, `ack each` "
        "awaits each before the next record, as the worker does. End to end: signed Chatwoot "
        f"`message_created` webhooks to `switchboard ingest` at {plan.rate}/s for "
        f"{plan.seconds:g} s, one conversation each, timed from when each POST was due to "
        f"the poll of the Chatwoot stand-in's record (every {POLL_SECONDS * 1000:.0f} ms) that "
        "first showed its reply. CPU is each process's share of one core (100 = one core "
        "busy): worker, ingest, the Kafka broker, PostgreSQL (postmaster and backends), this "
        "process (load generator, ceilings and stand-ins), and every other process. "
        "CPU ms/msg is what the process doing the work (the worker; this process for the "
        "ceilings) spent per message: less disturbed than msg/s by other load on the machine."
    )


def render(results: Results, plan: Plan, started: datetime) -> tuple[str, bool]:
    runs, latency = results.throughput, results.latency
    checks = verdicts(runs, latency)
    lines = [
        f"# Flow benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in results.info),
        "",
        method(plan),
        "",
        *throughput_table(runs),
        "",
        *latency_table(latency),
        "",
        *(f"{'PASS' if ok else 'FAIL'} {text}" for ok, text in checks),
        "",
        "Notes:",
        *notes(runs, latency),
    ]
    return "\n".join(lines) + "\n", all(ok for ok, _ in checks)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="200 messages and 10 s end to end, for smoke checks"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the worker with py-spy during its phase (perturbs it a little)",
    )
    return parser.parse_args(argv)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: clean up
    plan = QUICK if args.quick else FULL
    started = datetime.now(UTC)
    info = [*machine(), worker_row(), load_generator_row()]
    profile = RESULTS / f"flow-{started:%Y%m%dT%H%M%SZ}-worker.txt" if args.profile else None
    if profile is not None:
        RESULTS.mkdir(parents=True, exist_ok=True)

    def measure() -> tuple[str, bool]:
        results = run_bench(plan, load_settings(), Names(), profile)
        results.info[:0] = info
        return render(results, plan, started)

    stopped = "the worker and ingest were stopped"
    return run_reported("flow", started, measure, (BenchError,), stopped)


if __name__ == "__main__":
    sys.exit(main())
