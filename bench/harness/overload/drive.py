"""Driving the overload run: the children, the capacity burst, the open-loop load, and what
is watched meanwhile (answers, memory, consumer lag, actions).

`run_overload` is shared by the benchmark `bench.overload` and the fault test
`tests/faults/test_overload.py`: it starts `switchboard ingest` and `switchboard worker` as
children on the given topics and consumer group, against stand-ins already serving, and
returns what happened; judging is the caller's (`bench.harness.overload.judge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import uvloop
from aiokafka.errors import KafkaError

from bench.harness.children import HOST
from bench.harness.errors import BenchError
from bench.harness.kafka import Names, remove_topics
from bench.harness.meter import peak_rss, rss, settle
from bench.harness.overload.offer import (
    CHATWOOT_SECRET,
    GOOD,
    WHATSAPP_SECRET,
    Messages,
    Offer,
    Plan,
    Shot,
    address,
    calibration,
    chatwoot_shot,
    make_offer,
    schedule,
)
from bench.harness.overload.slow import SlowPlan, SlowResults, slowloris
from bench.harness.waiting import until
from bench.harness.watch import ActionWatch
from bench.harness.worker import (
    START_SECONDS,
    WorkerRig,
    ingest_ready,
    meter,
    start_children,
)
from bench.harness.worker import child_env as worker_env
from lag.offsets import LagReader
from lag.tracker import LagTracker
from schemas.catalogue import ACTIONS
from streams import topics
from switchboard.settings import Settings
from switchboard.standins import StandInURLs

CALIBRATION_CONCURRENCY = 8
CLIENT_TIMEOUT_SECONDS = 30.0  # far past every provider's 5 s: a slow answer is measured
SAMPLE_SECONDS = 0.05  # how often each child's resident memory is read
LAG_SECONDS = 0.5  # how often the worker group's lag is read after the load
DUPLICATES_SECONDS = 2.0  # after the drain: an action written twice would arrive by then
CHUNK = 64 * 1024  # a chunked body is framed in pieces of this size; smaller go by aiohttp


class OverloadError(Exception):
    """The run cannot go on; the message says why."""


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int | None  # None: no answer at all
    seconds: float  # from when it was due until the answer
    retry_after: str | None
    event_id: str | None
    accepted: bool  # 200 with "accepted": the event is in the log
    error: str | None = None
    at: float = 0.0  # when it was due, seconds into the load
    late: float = 0.0  # how far behind schedule it was sent, seconds


@dataclass
class Memory:
    """Resident memory of a child, sampled; the kernel's own peak (VmHWM) read at the end."""

    pid: int
    before: int = 0  # bytes, just before the load
    peak_sampled: int = 0  # the highest sample during the load and the drain
    hwm: int = 0  # bytes, since the process started

    def sample(self) -> None:
        self.peak_sampled = max(self.peak_sampled, rss(self.pid))


@dataclass
class Results:
    plan: Plan
    offer: Offer
    calibration_seconds: float
    calibration_ingest_rate: float  # accepted requests per second while it was posted
    body_budget: int  # ingest's SWITCHBOARD_BODY_BUDGET_BYTES
    answers: list[Answer] = field(default_factory=list)
    dispatch_lag: list[float] = field(default_factory=list)  # behind schedule, seconds
    load_seconds: float = math.nan  # first due to last answer
    ingest: Memory | None = None
    worker: Memory | None = None
    lag_peak: int = 0  # messages, the worker group's, sampled each second under load
    lag_at_end: int = 0  # when the last answer came
    drain_seconds: float = math.nan  # from the last answer until lag 0 and all answered
    answered: int = 0  # accepted messages with an action
    missing: int = 0  # accepted messages without one
    repeated: int = 0  # actions written more than once
    refused_answered: int = 0  # actions for messages ingest refused (must be 0)
    cpu: dict[str, float] = field(default_factory=dict)
    worker_rate_under_load: float = math.nan  # actions per second during the load
    slowloris: SlowResults | None = None  # the phase after the drain, when one was asked for


# --- sending -------------------------------------------------------------------------------


def outcome(
    shot: Shot, status: int, headers: dict[str, str], body: bytes, seconds: float
) -> Answer:
    accepted = status == 200 and b'"accepted"' in body
    return Answer(shot.kind, status, seconds, headers.get("retry-after"), shot.event_id, accepted)


async def post_small(session: aiohttp.ClientSession, url: str, shot: Shot, due: float) -> Answer:
    try:
        async with session.post(url + shot.path, data=shot.body, headers=shot.headers) as response:
            body = await response.read()
            headers = {k.lower(): v for k, v in response.headers.items()}
            return outcome(shot, response.status, headers, body, time.perf_counter() - due)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return failed(shot, due, exc)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status = int((await reader.readline()).split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    return status, headers, await reader.readexactly(length) if length else b""


def failed(shot: Shot, due: float, exc: BaseException) -> Answer:
    """No answer at all: the connection failed or nothing came in time."""
    elapsed = time.perf_counter() - due
    return Answer(shot.kind, None, elapsed, None, shot.event_id, False, type(exc).__name__)


def framed(shot: Shot) -> bytes:
    if not shot.chunked:
        return shot.body
    pieces = (shot.body[n : n + CHUNK] for n in range(0, len(shot.body), CHUNK))
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # a reset after an early answer is expected


async def post_raw(port: int, shot: Shot, due: float) -> Answer:
    """A big body over a connection of its own, handed to the socket whole (the transport
    writes it as the server reads) and abandoned as soon as the answer arrives: ingest may
    answer (413, 429, 503) before reading it all."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError as exc:
        return failed(shot, due, exc)
    length = {"Transfer-Encoding": "chunked"} if shot.chunked else {}
    length = length or {"Content-Length": str(len(shot.body))}
    lines = [f"POST {shot.path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (shot.headers | length).items()]
    answer = asyncio.ensure_future(read_response(reader))
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + framed(shot))
        written = asyncio.ensure_future(writer.drain())
        written.add_done_callback(_retrieved)
        async with asyncio.timeout(CLIENT_TIMEOUT_SECONDS):
            status, headers, body = await answer
        return outcome(shot, status, headers, body, time.perf_counter() - due)
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError) as exc:
        return failed(shot, due, exc)
    finally:
        answer.cancel()
        writer.transport.abort()  # whatever is left unsent is dropped


@dataclass(frozen=True)
class Target:
    session: aiohttp.ClientSession
    url: str
    port: int

    async def send(self, shot: Shot, due: float) -> Answer:
        late = time.perf_counter() - due
        if len(shot.body) > CHUNK:  # never through the session: it may run on another loop
            answer = await post_raw(self.port, shot, due)
        else:
            answer = await post_small(self.session, self.url, shot, due)
        return replace(answer, at=shot.due, late=late)


async def scheduled(target: Target, shots: Sequence[Shot], start: float) -> list[Answer]:
    """Each request at its time whatever the answers; latency counted from that time, so a
    server that falls behind cannot hide its queue."""
    pending: list[asyncio.Task[Answer]] = []
    for shot in shots:
        due = start + shot.due
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(target.send(shot, due)))
    return list(await asyncio.gather(*pending))


def apart(target: Target, shots: Sequence[Shot], start: float) -> list[Answer]:
    """`scheduled` on a loop of its own, in the calling thread."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(scheduled(target, shots, start))


async def open_loop(target: Target, shots: Sequence[Shot], results: Results) -> None:
    """Big bodies go from a thread with a loop of its own: handing 3 MB to a socket holds a
    loop for a millisecond or more, and the flood would put the small requests behind
    schedule (an attacker's CPU is not a provider's); the socket calls release the GIL."""
    big = [shot for shot in shots if len(shot.body) > CHUNK]
    small = [shot for shot in shots if len(shot.body) <= CHUNK]
    settle()  # a full collection over every object of the process stalls the schedule
    start = time.perf_counter() + 0.2
    try:
        sent = await asyncio.gather(
            scheduled(target, small, start), asyncio.to_thread(apart, target, big, start)
        )
    finally:
        gc.unfreeze()
    results.answers = [*sent[0], *sent[1]]
    results.dispatch_lag = [answer.late for answer in results.answers]
    results.load_seconds = time.perf_counter() - start


async def closed_loop(target: Target, shots: Sequence[Shot], concurrency: int) -> list[Answer]:
    queue = list(reversed(shots))
    answers: list[Answer] = []

    async def caller() -> None:
        while queue:
            answers.append(await target.send(queue.pop(), time.perf_counter()))

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return answers


# --- watching --------------------------------------------------------------------------------


class Lag:
    """The worker group's lag in messages, over every topic it reads."""

    def __init__(self, settings: Settings, group: str) -> None:
        self.group = group
        self.reader = LagReader(settings.kafka_bootstrap_servers)
        self.tracker = LagTracker()

    async def __aenter__(self) -> Lag:
        await self.reader.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.reader.close()

    async def messages(self) -> int:
        groups = await self.reader.list_groups(self.group)
        report = self.tracker.add(await self.reader.snapshot(groups))
        return sum(group.lag for group in report.groups)


async def sample_memory(memories: Sequence[Memory]) -> None:
    while True:
        for memory in memories:
            memory.sample()
        await asyncio.sleep(SAMPLE_SECONDS)


async def sample_lag(lag: Lag, results: Results) -> None:
    while True:
        with contextlib.suppress(KafkaError):
            results.lag_peak = max(results.lag_peak, await lag.messages())
        await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def background(*work: Awaitable[None]) -> AsyncIterator[None]:
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


# --- the run -----------------------------------------------------------------------------------


def child_env(
    settings: Settings, names: Names, urls: StandInURLs, data: Path, plan: Plan
) -> dict[str, str]:
    return worker_env(settings, names, urls, data) | {
        "SWITCHBOARD_LOG_LEVEL": "WARNING",  # a line per webhook would be most of the work
        "CHATWOOT_WEBHOOK_SECRET": CHATWOOT_SECRET,
        "WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
        "RATE_LIMIT_PER_MINUTE": str(plan.limit_per_minute),
        "SWITCHBOARD_TRUSTED_PROXIES": f"{HOST}/32",  # the load generator stands for the proxy
    }


def progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Rig(WorkerRig):
    """What every step of the run needs."""

    plan: Plan
    target: Target

    async def wait_for(self, done: Callable[[], bool], what: str) -> None:
        try:
            await until(done, START_SECONDS, what, self.children.check)
        except BenchError as exc:
            raise OverloadError(str(exc)) from exc


async def warm_up(rig: Rig, messages: Messages) -> None:
    shot = chatwoot_shot(messages, 0.0, GOOD, address(5, 0))
    answer = await rig.target.send(shot, time.perf_counter())
    if not answer.accepted or shot.event_id is None:
        raise OverloadError(f"ingest refused the warm-up message: {answer}")
    first = [shot.event_id]
    await rig.wait_for(lambda: rig.watch.has(first), "the first reply")


async def calibrate(rig: Rig, shots: Sequence[Shot]) -> tuple[float, float, float]:
    """Capacity: messages posted as fast as ingest takes them, over the time from the first
    POST to the last of their actions (the worker is the bottleneck). Also the seconds
    that took, and the rate at which ingest accepted them."""
    ids = [shot.event_id or "" for shot in shots]
    started = time.perf_counter()
    answers = await closed_loop(rig.target, shots, CALIBRATION_CONCURRENCY)
    posted = time.perf_counter() - started
    refused = [a for a in answers if not a.accepted]
    if refused:
        raise OverloadError(f"ingest refused {len(refused)} calibration messages: {refused[0]}")
    await rig.wait_for(lambda: rig.watch.has(ids), "the calibration's replies")
    seconds = max(rig.watch.arrived[i] for i in ids) - started
    return len(ids) / seconds, seconds, len(ids) / posted


async def drain(rig: Rig, results: Results, lag: Lag) -> None:
    """From the last answer: until the group has no lag and every accepted message has its
    action; then whether any was answered twice, or answered though refused."""
    watch = rig.watch
    accepted = [a.event_id for a in results.answers if a.accepted and a.event_id]
    started = time.perf_counter()
    results.lag_at_end = await lag.messages()
    while True:
        rig.children.check()
        if watch.has(accepted) and await lag.messages() == 0:
            results.drain_seconds = time.perf_counter() - started
            break
        if time.perf_counter() - started > START_SECONDS:
            break
        await asyncio.sleep(LAG_SECONDS)
    await asyncio.sleep(DUPLICATES_SECONDS)
    results.answered = sum(1 for i in accepted if i in watch.arrived)
    results.missing = len(accepted) - results.answered
    results.repeated = watch.repeated
    refused = {a.event_id for a in results.answers if a.event_id and a.status in (413, 429)}
    results.refused_answered = sum(1 for i in refused if i in watch.arrived)


async def load(rig: Rig, results: Results, shots: Sequence[Shot]) -> None:
    """The open-loop load and the drain, with memory and lag sampled throughout."""
    ingest = Memory(rig.children.ingest.process.pid)
    worker = Memory(rig.children.worker.process.pid)
    results.ingest, results.worker = ingest, worker
    for memory in (ingest, worker):
        memory.before = rss(memory.pid)
    cpu_meter = meter(rig.settings, rig.children)
    lag = Lag(rig.settings, rig.names.worker_group)
    async with lag, background(sample_memory([ingest, worker]), sample_lag(lag, results)):
        before = len(rig.watch.arrived)
        _, results.cpu = await cpu_meter.around(open_loop(rig.target, shots, results))
        answered = len(rig.watch.arrived) - before
        results.worker_rate_under_load = answered / results.load_seconds
        progress(f"load done in {results.load_seconds:.1f} s; draining")
        await drain(rig, results, lag)
    for memory in (ingest, worker):
        memory.hwm = peak_rss(memory.pid)


async def measure(rig: Rig, slow: SlowPlan | None) -> Results:
    plan, rng = rig.plan, random.Random()
    messages = Messages(plan.conversations, rng)
    progress("warming up: the worker joins its group and answers a first message")
    await warm_up(rig, messages)
    capacity, seconds, ingest_rate = await calibrate(rig, calibration(plan, messages))
    offer = make_offer(capacity, plan)
    progress(
        f"capacity {capacity:.1f} msg/s ({plan.calibration} in {seconds:.1f} s); offering "
        f"{offer.good_clients} well-behaved clients at {offer.good_rate:.2f}/s and "
        f"{offer.abusive_clients} abusive ones at {offer.abusive_rate:g}/s for {plan.seconds:g} s"
    )
    limit = rig.settings.switchboard_max_body_bytes
    shots = schedule(offer, plan, limit, messages, rng)
    budget = rig.settings.switchboard_body_budget_bytes
    results = Results(plan, offer, seconds, ingest_rate, budget)
    await load(rig, results, shots)
    if slow is not None:
        progress(f"slowloris: {slow.seconds:g} s of webhooks alone, then under slow bodies")
        run = f"{rng.randrange(16**8):08x}"
        results.slowloris = await slowloris(rig.target, messages, rig.settings, slow, run)
    return results


async def overload(
    settings: Settings,
    names: Names,
    urls: StandInURLs,
    plan: Plan,
    logs: Path,
    *,
    slow: SlowPlan | None,
) -> Results:
    with ExitStack() as stack:  # the children stop first
        env = child_env(settings, names, urls, logs / "worker-data", plan)
        children = start_children(env, logs, stack)
        port = int(children.ingest_url.rsplit(":", 1)[1])
        watch = ActionWatch(settings.kafka_bootstrap_servers, names.topic(ACTIONS))
        connector = aiohttp.TCPConnector(limit=512, keepalive_timeout=60)
        timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await ingest_ready(session, children)
            await watch.start()
            try:
                target = Target(session, children.ingest_url, port)
                return await measure(Rig(settings, names, children, watch, plan, target), slow)
            except BaseException:
                for child in (children.ingest, children.worker):
                    print(f"--- {child.name} log (tail) ---\n{child.tail()}", file=sys.stderr)
                raise
            finally:
                await watch.stop()


async def apply_topics(settings: Settings, names: Names) -> None:
    bootstrap = settings.kafka_bootstrap_servers
    try:
        await topics.apply(bootstrap, names.prefix, settings.switchboard_kafka_replication_factor)
    except KafkaError as exc:
        raise OverloadError(f"Kafka at {bootstrap}: {exc}") from exc


async def run_overload(
    settings: Settings,
    urls: StandInURLs,
    plan: Plan,
    logs: Path,
    label: str,
    *,
    slow: SlowPlan | None = None,
) -> Results:
    """Own topics and consumer group, children started and stopped, topics removed after;
    with `slow`, the slowloris phase (`bench.harness.overload.slow`) after the drain."""
    names = Names(label=label)
    await apply_topics(settings, names)
    try:
        return await overload(settings, names, urls, plan, logs, slow=slow)
    finally:
        await remove_topics(settings, names)
