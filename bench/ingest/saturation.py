"""Saturation: wrk (1 thread) sends one signed body over and over to each server in turn, at
each connection count, as the reports against the seed design measured it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.harness.errors import BenchError
from bench.harness.meter import settle
from bench.harness.wrk import Saturation, Wrk
from bench.ingest.cpu import cpu_cell, cpu_during
from bench.ingest.loops import WARMUP
from bench.ingest.messages import saturation_body
from bench.ingest.plan import Plan
from bench.ingest.servers import WEBHOOK, Server


@dataclass(frozen=True)
class Saturated:
    result: Saturation
    cpu: dict[str, float]


def prepare_wrk(folder: Path) -> Wrk:
    """wrk from PATH, with the saturation body and its script written to `folder`."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not on PATH: apt-get install -y wrk")
    body, headers = saturation_body()
    return Wrk.prepare(wrk, folder, body, headers["X-Hub-Signature-256"])


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
