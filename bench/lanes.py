"""Conversations in flight: the worker with a slow model and with a destination down, side
by side with the same worker holding one record per partition, in one run.

The baseline is the design before keyed lanes: ``SWITCHBOARD_PARTITION_WINDOW=1`` makes each
partition hold one record at a time, which is exactly what the worker did then. Each variant
runs the real `switchboard worker` in a subprocess, on its own topics and consumer group,
against the stand-ins in this process; customers' messages are produced straight to the
inbound topic, all at once, each in a conversation of its own. The stand-ins run in a process
of their own (`switchboard standins`), so serving hundreds of slow model calls does not take
this process's time from the measurement.

* slow model: the chat-model stand-in answers every call after 1.0 s; N customers (60, then
  300) write at once; the time from the first record produced until every one has its reply
  at the Chatwoot stand-in. Effective concurrency = N * 1.0 s / that time.
* two workers: the slow-model runs again with two worker processes sharing the group (the
  partitions split between them), to show the load shared on one machine.
* destination down: the Graph API stand-in answers 503 to every send; 30 WhatsApp and 30
  Chatwoot customers write at once; the time until every Chatwoot customer has a reply; then
  the Graph API recovers, and the time until every WhatsApp customer has one.

    .venv/bin/python -m bench.lanes [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import uvloop
from aiokafka import AIOKafkaProducer

from bench.harness.children import HOST, Child, free_port, spawn
from bench.harness.customers import Customers
from bench.harness.errors import BenchError
from bench.harness.kafka import Names, apply_topics, kafka_producer, remove_topics
from bench.harness.meter import own_cpu_seconds
from bench.harness.report import load_average, markdown, number, revision, run_reported
from bench.harness.watch import Replies
from bench.harness.worker import child_env, knowledge, switchboard_command
from ingest.normalise.chatwoot import normalise as normalise_chatwoot
from ingest.normalise.whatsapp import normalise as normalise_whatsapp
from ingest.producer import Record, to_records
from ingest.testing import whatsapp_text_body
from schemas.keys import Pseudonymizer
from switchboard.cli import load_settings
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens
from tests.sample_questions import QUESTIONS

MODEL_DELAY = 1.0
DOWN = "Graph API down: every Chatwoot customer answered"
LANES = "keyed lanes (window 64)"
BASELINE = "one record per partition (window 1)"
TWO = "keyed lanes, two worker processes"
# Each variant's partition window and number of worker processes.
VARIANTS = {LANES: ("64", 1), BASELINE: ("1", 1), TWO: ("64", 2)}
# Long enough for a second worker to join the group before anything is measured.
JOIN_SECONDS = 15.0
WAIT_SECONDS = 240.0
# While the Graph API is down the target is 10 s; past a minute, "not answered" says it all.
DOWN_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    per_channel: int  # destination down: customers on WhatsApp, and as many on Chatwoot


FULL = Plan(sizes=(60, 300), per_channel=30)
QUICK = Plan(sizes=(60,), per_channel=30)


@dataclass
class Row:
    variant: str
    scenario: str
    customers: int
    seconds: float | None  # None: not all answered within ``limit``
    cpu_ms_per_message: float | None = None
    limit: float = WAIT_SECONDS

    @property
    def concurrency(self) -> float | None:
        if self.seconds is None or not self.scenario.startswith("slow model"):
            return None
        return self.customers * MODEL_DELAY / self.seconds


# --- what customers send -------------------------------------------------------------------


def chatwoot_records(
    customers: Customers, count: int, keys: Pseudonymizer, prefix: str
) -> tuple[list[Record], list[int]]:
    conversations = customers.conversations(count)
    records: list[Record] = []
    for n, conversation in enumerate(conversations):
        body = json.loads(customers.body(conversation, QUESTIONS[n % len(QUESTIONS)]))
        normalised = normalise_chatwoot(
            body, keys=keys, correlation_id=uuid.uuid4().hex, delivery_id=None
        )
        records.extend(to_records(list(normalised.events), prefix))
    return records, conversations


def whatsapp_records(
    count: int, keys: Pseudonymizer, prefix: str
) -> tuple[list[Record], list[str]]:
    phones = [f"1555{uuid.uuid4().int % 10**7:07d}" for _ in range(count)]
    records: list[Record] = []
    for n, phone in enumerate(phones):
        raw = whatsapp_text_body(
            wamid=f"wamid.bench-{uuid.uuid4().hex}", phone=phone, text=QUESTIONS[n % len(QUESTIONS)]
        )
        normalised = normalise_whatsapp(
            json.loads(raw), source="whatsapp-cloud", keys=keys, correlation_id=uuid.uuid4().hex
        )
        records.extend(to_records(list(normalised.events), prefix))
    return records, phones


async def produce(producer: AIOKafkaProducer, records: Sequence[Record]) -> None:
    sent = [
        await producer.send(r.topic, key=r.key, value=r.value, headers=r.headers) for r in records
    ]
    await asyncio.gather(*sent)


# --- watching the stand-ins ------------------------------------------------------------------


async def standin(
    session: aiohttp.ClientSession, url: str, action: str, body: object = None
) -> object:
    """A stand-in's control endpoint: ``requests`` is read, the others are posted to."""
    if action == "requests":
        async with session.get(f"{url}/_standin/requests") as response:
            response.raise_for_status()
            return await response.json()
    async with session.post(f"{url}/_standin/{action}", json=body) as response:
        response.raise_for_status()
        return await response.json()


async def whatsapp_answered(session: aiohttp.ClientSession, graph: str) -> set[str]:
    record = await standin(session, graph, "requests")
    assert isinstance(record, dict)
    return {
        r["json"]["to"]
        for r in record["requests"]
        if r["method"] == "POST" and r["status"] == 200 and isinstance(r["json"], dict)
    }


async def until(
    done: Callable[[], Awaitable[bool]], started: float, limit: float = WAIT_SECONDS
) -> float | None:
    while time.perf_counter() - started < limit:
        if await done():
            return time.perf_counter() - started
        await asyncio.sleep(0.1)
    return None


# --- one worker ------------------------------------------------------------------------------


@dataclass
class Run:
    settings: Settings
    urls: StandInURLs
    keys: Pseudonymizer
    session: aiohttp.ClientSession
    producer: AIOKafkaProducer
    prefix: str
    pids: list[int]

    def cpu(self) -> float:
        return sum(own_cpu_seconds(pid) for pid in self.pids)


async def warm_up(run: Run, customers: Customers) -> None:
    replies = Replies(run.session, run.urls.chatwoot)
    records, conversations = chatwoot_records(customers, 1, run.keys, run.prefix)
    await produce(run.producer, records)

    async def answered() -> bool:
        await replies.poll()
        return conversations[0] in replies.arrived

    if await until(answered, time.perf_counter()) is None:
        raise BenchError("the worker did not answer its first message")


async def slow_model(run: Run, variant: str, customers: Customers, count: int) -> Row:
    replies = Replies(run.session, run.urls.chatwoot)
    await replies.reset()
    await standin(run.session, run.urls.model, "reset")
    await standin(
        run.session, run.urls.model, "faults", {"delay_seconds": MODEL_DELAY, "times": 10**6}
    )
    records, conversations = chatwoot_records(customers, count, run.keys, run.prefix)
    cpu = run.cpu()
    started = time.perf_counter()
    await produce(run.producer, records)

    async def all_answered() -> bool:
        await replies.poll()
        return all(c in replies.arrived for c in conversations)

    seconds = await until(all_answered, started)
    used = (run.cpu() - cpu) * 1000 / count
    await standin(run.session, run.urls.model, "reset")
    return Row(variant, f"slow model, N={count}", count, seconds, used)


async def destination_down(run: Run, variant: str, customers: Customers, count: int) -> list[Row]:
    replies = Replies(run.session, run.urls.chatwoot)
    await replies.reset()
    await standin(run.session, run.urls.graph, "reset")
    await standin(run.session, run.urls.graph, "faults", {"status": 503, "times": 10**6})
    whatsapp, phones = whatsapp_records(count, run.keys, run.prefix)
    chatwoot, conversations = chatwoot_records(customers, count, run.keys, run.prefix)
    started = time.perf_counter()
    await produce(run.producer, [r for pair in zip(whatsapp, chatwoot, strict=True) for r in pair])

    async def chatwoot_answered() -> bool:
        await replies.poll()
        return all(c in replies.arrived for c in conversations)

    chatwoot_seconds = await until(chatwoot_answered, started, DOWN_WAIT_SECONDS)
    await standin(run.session, run.urls.graph, "reset")
    recovered = time.perf_counter()

    async def whatsapp_done() -> bool:
        return set(phones) <= await whatsapp_answered(run.session, run.urls.graph)

    whatsapp_seconds = await until(whatsapp_done, recovered)
    return [
        Row(variant, DOWN, count, chatwoot_seconds, limit=DOWN_WAIT_SECONDS),
        Row(
            variant,
            "then Graph API back: every WhatsApp customer answered",
            count,
            whatsapp_seconds,
        ),
    ]


async def variant(
    settings: Settings, urls: StandInURLs, plan: Plan, name: str, *, tmp: Path
) -> list[Row]:
    window, processes = VARIANTS[name]
    names = Names(label="bench-lanes")
    await apply_topics(settings, names)
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    env = child_env(settings, names, urls, tmp / f"worker-{names.run}") | {
        "SWITCHBOARD_PARTITION_WINDOW": window,
        "SWITCHBOARD_LLM_MODEL": "openai:bench-model",
        "SWITCHBOARD_LLM_BASE_URL": urls.model_base_url,
        "SWITCHBOARD_LLM_API_KEY": Tokens.from_settings(settings).model,
        "SWITCHBOARD_FLOW_TIMEOUT_SECONDS": "120",
        # A failed send is tried again within a second or two, as a real deployment's
        # would be while its provider recovers.
        "SWITCHBOARD_DELIVERY_RETRIES": "2",
    }
    rows: list[Row] = []
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
                customers = Customers()
                print(f"{name}: warming up", file=sys.stderr, flush=True)
                if processes > 1:
                    await asyncio.sleep(JOIN_SECONDS)
                await warm_up(run, customers)
                for count in plan.sizes:
                    rows.append(await slow_model(run, name, customers, count))
                    print(
                        f"  {rows[-1].scenario}: {seconds_cell(rows[-1].seconds, rows[-1].limit)}",
                        file=sys.stderr,
                        flush=True,
                    )
                if processes == 1:
                    rows += await destination_down(run, name, customers, plan.per_channel)
                    for row in rows[-2:]:
                        print(
                            f"  {row.scenario}: {seconds_cell(row.seconds, row.limit)}",
                            file=sys.stderr,
                            flush=True,
                        )
                for worker in workers:
                    worker.check()
            except BaseException:
                for worker in workers:
                    print(f"--- {worker.name} log (tail) ---\n{worker.tail()}", file=sys.stderr)
                raise
            finally:
                await producer.stop()
    removed = await remove_topics(settings, names)
    print(f"removed {len(removed)} topics of {name}", file=sys.stderr)
    return rows


# --- report ----------------------------------------------------------------------------------


def seconds_cell(seconds: float | None, limit: float = WAIT_SECONDS) -> str:
    return f"not within {limit:g} s" if seconds is None else f"{number(seconds, 2)} s"


def table(rows: Sequence[Row]) -> list[str]:
    body = [
        [
            row.scenario,
            row.variant,
            seconds_cell(row.seconds, row.limit),
            "" if row.concurrency is None else number(row.concurrency),
            "" if row.cpu_ms_per_message is None else number(row.cpu_ms_per_message),
        ]
        for row in rows
    ]
    header = ["scenario", "worker", "time", "effective concurrency", "worker CPU ms / message"]
    return markdown(header, body, left=2)


def find(rows: Sequence[Row], name: str, scenario: str) -> Row | None:
    return next((r for r in rows if r.variant == name and r.scenario.startswith(scenario)), None)


def verdicts(rows: Sequence[Row]) -> list[tuple[bool, str]]:
    found: list[tuple[bool, str]] = []
    for count, target in ((60, 20.0), (300, 40.0)):
        row = find(rows, LANES, f"slow model, N={count}")
        if row is not None:
            value = row.concurrency or 0.0
            found.append(
                (
                    value >= target,
                    f"effective concurrency at N={count} ≥ {target:g}: {number(value)}",
                )
            )
    chatwoot = find(rows, LANES, "Graph API down")
    if chatwoot is not None:
        ok = chatwoot.seconds is not None and chatwoot.seconds <= 10.0
        text = "every Chatwoot customer answered within 10 s while the Graph API is down"
        found.append((ok, f"{text}: {seconds_cell(chatwoot.seconds, chatwoot.limit)}"))
    whatsapp = find(rows, LANES, "then Graph API back")
    if whatsapp is not None:
        text = "every WhatsApp customer answered once it is back"
        found.append((whatsapp.seconds is not None, f"{text}: {seconds_cell(whatsapp.seconds)}"))
    return found


def render(rows: Sequence[Row], started: datetime) -> tuple[str, bool]:
    checks = verdicts(rows)
    lines = [
        f"# Conversations in flight ({started:%Y-%m-%d %H:%M} UTC, {revision()})",
        "",
        f"Load before the run: {load_average()}. Model stand-in delay {MODEL_DELAY:g} s.",
        "",
        *table(rows),
        "",
        *[f"- {'PASS' if ok else 'MISS'}: {text}" for ok, text in checks],
    ]
    return "\n".join(lines) + "\n", all(ok for ok, _ in checks)


async def standins_ready(urls: StandInURLs, child: Child) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for url in (urls.chatwoot, urls.graph, urls.dialog360, urls.model):
            deadline = time.perf_counter() + 30
            while True:
                child.check()
                try:
                    await standin(session, url, "requests")
                    break
                except aiohttp.ClientError:
                    if time.perf_counter() > deadline:
                        raise BenchError(f"stand-in {url} did not start") from None
                    await asyncio.sleep(0.2)


async def measure(settings: Settings, plan: Plan, tmp: Path) -> list[Row]:
    await knowledge(settings)  # the questions must reach the model: the knowledge base answers them
    rows: list[Row] = []
    ports = [free_port() for _ in range(4)]
    urls = StandInURLs(*(f"http://{HOST}:{port}" for port in ports))
    argv = switchboard_command("standins", "--host", HOST)
    with ExitStack() as stack:
        env = child_env(settings, Names(label="bench-lanes"), urls, tmp)
        child = spawn("standins", [*argv, "--ports", *map(str, ports)], env, tmp, stack)
        await standins_ready(urls, child)
        for name in VARIANTS:
            rows += await variant(settings, urls, plan, name, tmp=tmp)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="N=60 only")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    plan = QUICK if args.quick else FULL
    started = datetime.now(UTC)

    def run() -> tuple[str, bool]:
        with (
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
            tempfile.TemporaryDirectory(prefix="bench-lanes-") as tmp,
        ):
            rows = runner.run(measure(load_settings(), plan, Path(tmp)))
        return render(rows, started)

    return run_reported("lanes", started, run, (BenchError,), "the workers were stopped")


if __name__ == "__main__":
    sys.exit(main())
