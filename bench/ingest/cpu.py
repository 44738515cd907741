"""The CPU each phase records, as shares of one core: the server under test (with its
workers), the Kafka broker, this process (the load generator, and each wrk run once it
ended) and every other process on the machine."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from bench.harness import meter
from bench.harness.meter import cpu_seconds, shares_during, this_process_seconds
from bench.ingest.servers import Server

T = TypeVar("T")

COLUMNS = ("server", "broker", "client", "other")  # the order of a report's CPU cells
DISTURBED = 0.15  # share of a core used by processes outside the benchmark: flagged


async def cpu_during(
    work: Awaitable[T], server: Server | None, broker_pid: int | None
) -> tuple[T, dict[str, float]]:
    """`work`'s result, and the share of a core each process used while it ran."""
    pids = {"server": server.process.pid if server else None, "broker": broker_pid}

    def used() -> dict[str, float]:
        return {
            **{name: cpu_seconds(pid) for name, pid in pids.items()},
            "client": this_process_seconds(),
        }

    return await shares_during(work, used)


def disturbed(cpu: dict[str, float]) -> list[str]:
    if cpu["other"] > DISTURBED:
        return [f"other processes used {cpu['other']:.0%} of a core: disturbed"]
    return []


def cpu_cell(cpu: dict[str, float]) -> str:
    return meter.cpu_cell(cpu, COLUMNS)
