"""CPU and memory of processes, read with psutil, and the machine's busy time.

A share is CPU seconds over wall seconds: 1.0 is one core busy for the whole span.
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

T = TypeVar("T")

# The processes a worker benchmark meters, in the order its CPU cells list them.
CPU_NAMES = ("worker", "ingest", "kafka", "postgres", "bench", "other")


def settle() -> None:
    """Keep pre-built payloads out of this process's garbage collector during timing."""
    gc.collect()
    gc.freeze()


def busy_seconds() -> float:
    """CPU time the whole machine spent busy (user, nice, system, interrupts), all cores."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq)


def cpu_seconds(pid: int | None, *, ended_children: bool = False) -> float:
    """User plus system CPU time of a process and of its live children (uvicorn's workers,
    PostgreSQL's backends); with `ended_children`, also of the children it waited for
    (PostgreSQL's backends come and go with connections). NaN if unknown."""
    if pid is None:
        return math.nan
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = float(times.user + times.system)
        if ended_children:
            total += float(times.children_user + times.children_system)
        for child in process.children():
            try:
                child_times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue  # ended between the listing and the reading
            total += float(child_times.user + child_times.system)
    except psutil.Error:
        return math.nan
    return total


def own_cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of one process alone; NaN if unknown."""
    if pid is None:
        return math.nan
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return math.nan
    return float(times.user + times.system)


def this_process_seconds() -> float:
    """User plus system CPU time of this process and of its children that ended (each run
    of a tool such as wrk); children still running are not counted."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


async def shares_during(
    work: Awaitable[T], sample: Callable[[], dict[str, float]]
) -> tuple[T, dict[str, float]]:
    """The work's result, and the CPU seconds `sample` reads, by name, as shares of one core
    meanwhile; `other` is the machine's busy time none of them accounts for."""
    before, busy, started = sample(), busy_seconds(), time.perf_counter()
    result = await work
    wall = time.perf_counter() - started
    after = sample()
    shares = {name: (after[name] - was) / wall for name, was in before.items()}
    ours = sum(share for share in shares.values() if not math.isnan(share))
    shares["other"] = max(0.0, (busy_seconds() - busy) / wall - ours)
    return result, shares


def rss(pid: int) -> int:
    """Resident memory of a process, bytes; 0 once it is gone."""
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def peak_rss(pid: int) -> int:
    """The kernel's own peak of a process's resident memory (VmHWM), bytes; 0 once it is
    gone. psutil has no figure for it on Linux, so /proc/<pid>/status is read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


@dataclass(frozen=True)
class Meter:
    """The processes whose CPU each phase records, by name; PostgreSQL's postmaster is
    metered with its backends, live and ended."""

    pids: dict[str, int | None]

    def _sample(self) -> dict[str, float]:
        return {
            name: cpu_seconds(pid, ended_children=True)
            if name == "postgres"
            else own_cpu_seconds(pid)
            for name, pid in self.pids.items()
        }

    async def around(self, work: Awaitable[T]) -> tuple[T, dict[str, float]]:
        """The work's result, and each process's CPU as a share of one core meanwhile."""
        return await shares_during(work, self._sample)


def cpu_cell(shares: dict[str, float], names: Sequence[str] = CPU_NAMES) -> str:
    """The shares of `names`, in that order, as percentages of a core joined by `/`."""
    values = (shares.get(name, math.nan) for name in names)
    return "/".join("-" if math.isnan(v) else f"{v * 100:.0f}" for v in values)
