"""The worker's throughput: a burst of records produced straight to the inbound topic,
timed from the first produced to the N-th action, and on to the N-th reply at the Chatwoot
stand-in. A `Throughput` is also what each ceiling measures."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.flow.messages import Burst, burst
from bench.flow.rig import Rig
from bench.harness.kafka import produce
from bench.harness.profiling import profiled
from bench.harness.waiting import idles, until
from bench.harness.worker import DRAIN_SECONDS, START_SECONDS

WORKER = "worker"
IDLE = 0.1  # share of a core under which the worker counts as idle


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


def find(runs: Sequence[Throughput], target: str) -> Throughput:
    (run,) = (run for run in runs if run.target == target)
    return run


async def warm_up(rig: Rig) -> None:
    """One message through the worker, action and delivery, before anything is timed."""
    one = burst(rig.customers, 1, rig.keys, rig.names.prefix)
    await produce(rig.producer, one.records)
    check = rig.children.check
    await until(lambda: rig.watch.has(one.ids), START_SECONDS, "the worker's first action", check)
    await rig.replies.delivered(one.conversations, START_SECONDS, check)


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
        delivered = await rig.replies.delivered(
            work.conversations, DRAIN_SECONDS, rig.children.check
        )
        return actions, delivered - started

    (actions, seconds), cpu = await rig.meter.around(whole())
    actions.twice = rig.watch.repeated
    through = Throughput("worker, to the stand-in", len(work.ids), seconds, cpu)
    through.notes.append("until the N-th reply reached the Chatwoot stand-in, read every 0.25 s")
    through.twice = rig.replies.total(work.conversations) - len(work.ids)
    return [actions, through]


async def quiesce(rig: Rig, seconds: float = 30.0) -> str | None:
    """Wait until the worker idles (its store agent may trail the burst), so the ceilings
    get the cores to themselves; a note if it did not within `seconds`."""
    pid = rig.children.worker.process.pid
    if await idles(pid, seconds, rig.children.check, share=IDLE):
        return None
    return f"the worker was still busy {seconds:g} s after the burst"
