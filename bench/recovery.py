"""Recovery time after a worker is killed with SIGKILL under a steady stream of messages.

* restart: one `switchboard worker` (offline responder) answers a steady stream of
  Chatwoot `message.received` events produced straight to the inbound topic; it is killed
  with SIGKILL mid-flow and started again at once. Timed from the kill: the first action
  written after it, every inbound partition answered again, and the backlog (everything
  sent before every partition was answered again) answered. Repeated a few times.
* takeover: two workers in the group; one is killed and not restarted, so the survivor
  must take over its partitions. Timed the same way.
* check: after the stream stops, every message sent has exactly one action.

Times come from the record timestamps the producers set (wall clock, one machine): when
this script produced each message, and when the worker produced each action. The Chatwoot
stand-in runs in this script, the workers are its children; the run's database
(`bench_recovery_<run>`) and topics (`bench-recovery-<run>.*`) are removed at the end.

    .venv/bin/python -m bench.recovery [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import uvloop
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from bench.harness.children import Child, free_port, spawn
from bench.harness.customers import Customers
from bench.harness.errors import BenchError
from bench.harness.kafka import Names, apply_topics, kafka_producer, produce, remove_topics
from bench.harness.machine import machine, worker_row
from bench.harness.report import load_average, markdown, run_reported
from bench.harness.waiting import until
from bench.harness.watch import ActionWatch, Replies
from bench.harness.worker import (
    DRAIN_SECONDS,
    START_SECONDS,
    child_env,
    switchboard_command,
)
from datakeys.build import build_keyring
from datakeys.keyring import KeyRing
from ingest.normalise.chatwoot import normalise
from ingest.producer import Record, to_records
from lag.offsets import read_once
from schemas.catalogue import ACTIONS, INBOUND
from schemas.keys import Pseudonymizer
from sinks.postgres.pool import Database, PoolConfig
from streams.runtime.app import create_app
from switchboard.cli import load_settings
from switchboard.logs import configure
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens, run_standins
from tests.integration.conftest import create_database, drop_database
from tests.sample_questions import QUESTIONS

TARGET_SECONDS = 15.0
POLL = 0.1  # how often the results are read while waiting


@dataclass(frozen=True)
class Plan:
    rate: int  # messages a second, steady, whatever the workers do
    restarts: int  # kill and restart at once, this many times
    takeovers: int  # with two workers, kill one for good, this many times
    steady: float  # seconds of steady flow before each kill


FULL = Plan(rate=20, restarts=3, takeovers=2, steady=8.0)
QUICK = Plan(rate=20, restarts=1, takeovers=1, steady=5.0)


@dataclass
class Episode:
    kind: str  # "restart" or "takeover"
    killed_at: float  # wall clock
    first: float = float("nan")  # seconds from the kill to the first action after it
    partitions: float = float("nan")  # ... until every inbound partition was answered again
    caught_up: float = float("nan")  # ... until everything sent before that was answered
    backlog: int = 0  # messages sent before every partition was answered, unanswered at kill


# --- the workers and the stream ----------------------------------------------------------


class Workers:
    """`switchboard worker` children: started, killed, and checked while they should run."""

    def __init__(self, env: Callable[[int], dict[str, str]], logs: Path, stack: ExitStack):
        self.env, self.logs, self.stack = env, logs, stack
        self.spawned: list[Child] = []
        self.running: list[Child] = []

    def start(self) -> Child:
        n = len(self.spawned) + 1
        argv = switchboard_command("worker")
        child = spawn(f"worker-{n}", argv, self.env(n), self.logs, self.stack)
        self.spawned.append(child)
        self.running.append(child)
        return child

    def kill(self, child: Child) -> float:
        """SIGKILL; the wall-clock time it was sent."""
        killed_at = time.time()
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.wait()
        self.running.remove(child)
        return killed_at

    def check(self) -> None:
        for child in self.running:
            child.check()


class Stream:
    """Messages produced at a steady rate in the background, each in a new conversation,
    sealed with the contact's data key as ingest seals them (so the key exists before the
    worker reads the message, as in production)."""

    def __init__(self, producer: AIOKafkaProducer, keyring: KeyRing, settings: Settings) -> None:
        self.producer, self.keyring = producer, keyring
        self.keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
        self.prefix = settings.switchboard_topic_prefix
        self.customers = Customers()
        self.sent: dict[str, float] = {}  # event id -> when produced (broker-acknowledged)
        self.partition: dict[str, int] = {}  # event id -> inbound partition
        self.conversations: Counter[int] = Counter()  # messages produced per conversation
        self.behind = 0.0  # the longest this sender fell behind its schedule, seconds

    async def sealed(self, count: int) -> list[tuple[Record, str, int]]:
        """(record, event id, conversation) for `count` new conversations."""
        made = []
        for n, conversation in enumerate(self.customers.conversations(count)):
            body = json.loads(self.customers.body(conversation, QUESTIONS[n % len(QUESTIONS)]))
            normalised = normalise(
                body, keys=self.keys, correlation_id=uuid.uuid4().hex, delivery_id=None
            )
            (event,) = normalised.events
            (record,) = to_records([await self.keyring.seal(event)], self.prefix)
            made.append((record, event.id, conversation))
        return made

    async def run(self, rate: int) -> None:
        started, n = time.perf_counter(), 0
        pending: set[asyncio.Task[None]] = set()
        upcoming = asyncio.create_task(self.sealed(rate))
        try:
            while True:
                batch = await upcoming
                upcoming = asyncio.create_task(self.sealed(rate))  # the next second's
                for record, event_id, conversation in batch:
                    delay = started + n / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    self.behind = max(self.behind, -delay)
                    future = await self.producer.send(
                        record.topic, record.value, key=record.key, headers=record.headers
                    )
                    self.conversations[conversation] += 1
                    task = asyncio.create_task(self._acked(event_id, future))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    n += 1
        finally:
            upcoming.cancel()
            await asyncio.gather(upcoming, *pending, return_exceptions=True)

    async def _acked(self, event_id: str, future: asyncio.Future[object]) -> None:
        metadata = await future
        self.sent[event_id] = metadata.timestamp / 1000  # type: ignore[attr-defined]
        self.partition[event_id] = metadata.partition  # type: ignore[attr-defined]


@dataclass
class Rig:
    settings: Settings
    names: Names
    plan: Plan
    workers: Workers
    watch: ActionWatch
    stream: Stream
    episodes: list[Episode] = field(default_factory=list)


# --- the measures ------------------------------------------------------------------------


def resumed(rig: Rig, episode: Episode) -> bool:
    """Fill in the first action and every partition answered again, once both happened."""
    after = {i: t for i, t in rig.watch.stamped.items() if t > episode.killed_at}
    if not after:
        return False
    episode.first = min(after.values()) - episode.killed_at
    firsts: dict[int, float] = {}
    for event_id, stamp in after.items():
        partition = rig.stream.partition.get(event_id)
        if partition is not None and stamp < firsts.get(partition, float("inf")):
            firsts[partition] = stamp
    if len(firsts) < INBOUND.partitions:
        return False
    episode.partitions = max(firsts.values()) - episode.killed_at
    return True


def caught_up(rig: Rig, episode: Episode) -> bool:
    """Everything sent before every partition was answered again has its action."""
    cut = episode.killed_at + episode.partitions
    backlog = [i for i, t in rig.stream.sent.items() if t <= cut]
    if any(i not in rig.watch.stamped for i in backlog):
        return False
    episode.caught_up = max(rig.watch.stamped[i] for i in backlog) - episode.killed_at
    episode.backlog = sum(1 for i in backlog if rig.watch.stamped[i] > episode.killed_at)
    return True


async def recovered(rig: Rig, episode: Episode) -> Episode:
    """Times come from record timestamps: reading them every 0.1 s loses nothing."""
    check = rig.workers.check
    await until(
        lambda: resumed(rig, episode), DRAIN_SECONDS, "processing after the kill", check, POLL
    )
    try:
        await until(lambda: caught_up(rig, episode), DRAIN_SECONDS, "the backlog", check, POLL)
    except BenchError as exc:
        cut = episode.killed_at + episode.partitions
        waiting = [i for i, t in rig.stream.sent.items() if t <= cut and i not in rig.watch.stamped]
        where = Counter(rig.stream.partition[i] for i in waiting)
        raise BenchError(
            f"{exc}: {len(waiting)} unanswered, by partition {dict(where)}: {waiting[:5]}"
        ) from exc
    rig.episodes.append(episode)
    print(
        f"  {episode.kind}: first action {episode.first:6.2f} s, every partition "
        f"{episode.partitions:6.2f} s, backlog of {episode.backlog} answered "
        f"{episode.caught_up:6.2f} s after the kill",
        file=sys.stderr,
        flush=True,
    )
    return episode


async def group_stable(rig: Rig, members: int) -> None:
    """The worker group is Stable with this many members, each holding inbound partitions."""
    inbound = rig.names.topic(INBOUND)

    async def stable() -> bool:
        snapshot = await read_once(
            rig.settings.kafka_bootstrap_servers, "", only=[rig.names.worker_group]
        )
        (group,) = snapshot.groups
        holding = [m for m in group.members if any(t == inbound for t, _ in m.assignment)]
        return group.state == "Stable" and len(group.members) == members == len(holding)

    deadline = time.perf_counter() + START_SECONDS
    while not await stable():
        rig.workers.check()
        if time.perf_counter() > deadline:
            raise BenchError(f"the group did not settle with {members} members")
        await asyncio.sleep(0.5)


async def restarts(rig: Rig) -> None:
    (worker,) = rig.workers.running
    for n in range(rig.plan.restarts):
        await asyncio.sleep(rig.plan.steady)
        print(f"restart {n + 1} of {rig.plan.restarts}", file=sys.stderr, flush=True)
        killed_at = rig.workers.kill(worker)
        worker = rig.workers.start()
        await recovered(rig, Episode("restart", killed_at))


async def takeovers(rig: Rig) -> None:
    for n in range(rig.plan.takeovers):
        print(f"takeover {n + 1} of {rig.plan.takeovers}", file=sys.stderr, flush=True)
        rig.workers.start()
        await group_stable(rig, 2)
        await asyncio.sleep(rig.plan.steady)
        killed_at = rig.workers.kill(rig.workers.running[0])  # the older one
        await recovered(rig, Episode("takeover", killed_at))


@dataclass(frozen=True)
class Counts:
    sent: int
    missing: int  # messages without an action
    repeated: int  # action records for a message already answered
    replies: int  # replies the Chatwoot stand-in received for the stream's conversations
    unreplied: int  # conversations without one
    twice: int  # replies beyond one a message


async def exactly_once(rig: Rig, chatwoot: str) -> Counts:
    """Once the stream has stopped: every message's action, and its reply at the stand-in."""
    sent = list(rig.stream.sent)
    expected = rig.stream.conversations
    check = rig.workers.check
    with contextlib.suppress(BenchError):  # counted below
        await until(lambda: rig.watch.has(sent), DRAIN_SECONDS, "the last actions", check, POLL)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        replies = Replies(session, chatwoot)
        deadline = time.perf_counter() + DRAIN_SECONDS
        while replies.total(expected) < expected.total() and time.perf_counter() < deadline:
            await asyncio.sleep(1.0)
            await replies.poll()
        await asyncio.sleep(2.0)  # an action or reply sent twice would arrive about now
        await replies.poll()
    return Counts(
        sent=len(sent),
        missing=sum(1 for i in sent if i not in rig.watch.arrived),
        repeated=rig.watch.repeated,
        replies=replies.total(expected),
        unreplied=sum(1 for c in expected if replies.counts[c] == 0),
        twice=sum(max(0, replies.counts[c] - n) for c, n in expected.items()),
    )


async def phases(rig: Rig, producer: AIOKafkaProducer, chatwoot: str) -> Counts:
    ((record, warm, _),) = await rig.stream.sealed(1)
    await produce(producer, [record])
    print("waiting for the worker's first action", file=sys.stderr, flush=True)
    await until(lambda: rig.watch.has([warm]), START_SECONDS, "the first action", rig.workers.check)
    sender = asyncio.create_task(rig.stream.run(rig.plan.rate))
    try:
        await restarts(rig)
        await takeovers(rig)
        await asyncio.sleep(rig.plan.steady)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return await exactly_once(rig, chatwoot)


async def measure(
    settings: Settings, names: Names, plan: Plan, workers: Workers
) -> tuple[Rig, Counts]:
    url = settings.database_url.get_secret_value()
    database = await Database.connect(PoolConfig(url, size=2, max_overflow=0))

    async def db() -> Database:
        return database

    keyring = build_keyring(settings, db)
    watch = ActionWatch(settings.kafka_bootstrap_servers, names.topic(ACTIONS))
    producer = kafka_producer(settings)
    rig = Rig(settings, names, plan, workers, watch, Stream(producer, keyring, settings))
    workers.start()
    try:
        await keyring.start()
        await watch.start()
        await producer.start()
        return rig, await phases(rig, producer, settings.chatwoot_base_url)
    finally:
        await producer.stop()
        await watch.stop()
        await keyring.stop()
        await database.close()


def run_bench(
    plan: Plan, settings: Settings, names: Names, logs: Path | None
) -> tuple[Rig, Counts]:
    server = settings.database_url.get_secret_value()
    with (
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp,
        ExitStack() as stack,  # exits first: workers, stand-ins, then topics and database
    ):
        url = runner.run(create_database(server, f"bench_recovery_{names.run}"))
        stack.callback(lambda: runner.run(drop_database(server, url)))
        stack.callback(lambda: runner.run(remove_topics(settings, names)))
        own = settings.model_copy(
            update={"database_url": SecretStr(url), "switchboard_topic_prefix": names.prefix}
        )
        runner.run(apply_topics(own, names))
        urls: StandInURLs = stack.enter_context(run_standins(tokens=Tokens.from_settings(own)))
        own = own.model_copy(update={"chatwoot_base_url": urls.chatwoot})

        def env(n: int) -> dict[str, str]:
            return child_env(own, names, urls, Path(tmp) / f"worker-data-{n}") | {
                "SWITCHBOARD_WORKER_WEB_PORT": str(free_port()),  # two may run at once
                **({"SWITCHBOARD_LOG_LEVEL": "INFO"} if logs else {}),
            }

        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
        workers = Workers(env, logs or Path(tmp), stack)
        try:
            return runner.run(measure(own, names, plan, workers))
        except BaseException:
            for child in workers.spawned:
                print(f"--- {child.name} log (tail) ---\n{child.tail()}", file=sys.stderr)
            raise


# --- report ------------------------------------------------------------------------------


def faust_settings(settings: Settings) -> str:
    conf = create_app(settings).conf
    return (
        f"session timeout {conf.broker_session_timeout:g} s, heartbeat "
        f"{conf.broker_heartbeat_interval:g} s, rebalance timeout "
        f"{conf.broker_rebalance_timeout:g} s, request timeout {conf.broker_request_timeout:g} s, "
        f"max poll interval {conf.broker_max_poll_interval:g} s (streams/runtime/app.py)"
    )


def _s(value: float) -> str:
    return f"{value:.2f}"


def render(
    rig: Rig, counts: Counts, info: list[tuple[str, str]], started: datetime
) -> tuple[str, bool]:
    command = shlex.join(sys.orig_argv)
    rows, checks = [], []
    for kind in ("restart", "takeover"):
        episodes = [e for e in rig.episodes if e.kind == kind]
        for n, e in enumerate(episodes, 1):
            rows.append(
                [f"{kind} {n}", _s(e.first), _s(e.partitions), _s(e.caught_up), str(e.backlog)]
            )
        if episodes:
            med = [
                statistics.median(getattr(e, a) for e in episodes)
                for a in ("first", "partitions", "caught_up")
            ]
            rows.append([f"{kind}, median", *(_s(v) for v in med), ""])
            worst = max(e.partitions for e in episodes)
            checks.append(
                (
                    worst < TARGET_SECONDS,
                    f"{kind}: every partition answered again within {worst:.2f} s of the kill "
                    f"at worst, median {med[1]:.2f} s (target < {TARGET_SECONDS:g} s) "
                    f"(`{command}`)",
                )
            )
    checks.append(
        (
            counts.missing == 0 and counts.unreplied == 0 and counts.twice == 0,
            f"every message answered exactly once: {counts.sent} sent, {counts.missing} without "
            f"an action, {counts.unreplied} without a reply at the Chatwoot stand-in, "
            f"{counts.twice} replies repeated (`{command}`)",
        )
    )
    lines = [
        f"# Recovery benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        *(f"- {name}: {value}" for name, value in info),
        f"- Faust: {faust_settings(rig.settings)}",
        "- shared machine: other work ran on the same 2 cores; compare rows of this run only",
        "",
        method(rig.plan),
        "",
        *markdown(
            [
                "kill",
                "first action s",
                "every partition s",
                "backlog answered s",
                "backlog msgs",
            ],
            rows,
        ),
        "",
        *(f"{'PASS' if ok else 'FAIL'} {text}" for ok, text in checks),
        "",
        "Notes:",
        f"- the sender fell behind its schedule by {rig.stream.behind:.3f} s at most",
        f"- action records repeated on the actions topic (same action id, absorbed by the "
        f"idempotent delivery and storage): {counts.repeated}; replies received: "
        f"{counts.replies}",
    ]
    return "\n".join(lines) + "\n", all(ok for ok, _ in checks)


def method(plan: Plan) -> str:
    return (
        f"A steady {plan.rate} Chatwoot `message.received` events a second (each in a new "
        f"conversation, over the {INBOUND.partitions} inbound partitions) go straight to the "
        "inbound topic (acks=all) for the whole run; one `switchboard worker` (offline "
        f"responder) answers them. Restart: after {plan.steady:g} s of steady flow the worker "
        "gets SIGKILL and a new one is started at once; "
        f"{plan.restarts} times. Takeover: a second worker joins, the group settles (both "
        f"hold inbound partitions), {plan.steady:g} s later the older one gets SIGKILL and is "
        f"not replaced; {plan.takeovers} times. Times are seconds from the kill to: the first "
        "action any worker produced after it; the first action after it on every inbound "
        "partition (each partition gets a message every "
        f"{INBOUND.partitions / plan.rate:.2f} s on average, which bounds the resolution); "
        "the last action answering a message sent before that moment (the backlog caught "
        "up). Backlog msgs counts the messages answered after the kill among those. Clocks: "
        "the record timestamps of the messages (set by this script's producer) and of the "
        "actions (set by the worker's producer), one machine."
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one restart and one takeover, for smoke checks"
    )
    parser.add_argument(
        "--logs", type=Path, default=None, help="keep the workers' logs (INFO) in this folder"
    )
    parser.add_argument("--restarts", type=int, default=None, help="kill and restart N times")
    parser.add_argument("--takeovers", type=int, default=None, help="kill one of two N times")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    configure("WARNING", json_output=False, stream=sys.stderr)  # no line per key made
    plan = QUICK if args.quick else FULL
    if args.restarts is not None:
        plan = replace(plan, restarts=args.restarts)
    if args.takeovers is not None:
        plan = replace(plan, takeovers=args.takeovers)
    started = datetime.now(UTC)
    info = [*machine(), worker_row()]

    def measure() -> tuple[str, bool]:
        rig, counts = run_bench(plan, load_settings(), Names(label="bench-recovery"), args.logs)
        info.append(("load average at the end", load_average()))
        return render(rig, counts, info, started)

    return run_reported("recovery", started, measure, (BenchError,), "the workers were stopped")


if __name__ == "__main__":
    sys.exit(main())
