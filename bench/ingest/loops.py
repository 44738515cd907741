"""Closed- and open-loop load: how requests are offered, timed and counted.

A closed loop keeps `concurrency` requests in flight (maximum throughput); an open loop sends
at fixed intervals whatever the answers, and counts latency from each request's scheduled
time, so a stalled server cannot hide its queue (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiokafka.errors import KafkaError

from bench.harness.stats import ms as quantile_ms
from bench.ingest.cpu import cpu_cell
from bench.ingest.messages import Signed
from ingest.producer import Record

WARMUP = "warm-up"  # the target name of every warm-up, never reported


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


def find(runs: Sequence[Run], target: str, mode: str) -> list[Run]:
    return [run for run in runs if run.target == target and run.mode == mode]


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
