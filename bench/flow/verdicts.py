"""The flow benchmark's verdicts (`bench.harness.verdicts`): its behaviour, judged by every
run, and its targets, which depend on the machine and are judged by a full run only."""

from __future__ import annotations

from collections.abc import Sequence

from bench.flow.ceiling import CEILING
from bench.flow.end_to_end import EndToEnd
from bench.flow.throughput import WORKER, Throughput, find
from bench.harness.stats import ms
from bench.harness.verdicts import Check, Verdicts

RATIO_TARGET = 0.5
P99_TARGET_MS = 1000.0


def behaviour(runs: Sequence[Throughput], latency: EndToEnd) -> list[Check]:
    """Every webhook replied to end to end; every message answered exactly once, none
    refused."""
    missing = len(latency.due) - len(latency.replied)
    twice = sum(run.twice for run in runs) + sum(n - 1 for n in latency.replies.values() if n)
    refused = latency.errors.total()
    return [
        Check(
            missing == 0,
            f"end to end at {latency.rate} webhooks/s: {missing} of {len(latency.due)} "
            "without a reply",
        ),
        Check(
            twice == 0 and refused == 0 and missing == 0,
            f"every message answered exactly once: {refused} webhooks refused, "
            f"{missing} unanswered, {twice} actions or replies repeated",
        ),
    ]


def targets(runs: Sequence[Throughput], latency: EndToEnd) -> list[Check]:
    """The worker's rate against the ceiling's; the end-to-end p99."""
    worker, best = find(runs, WORKER), find(runs, CEILING)
    ratio = worker.rate / best.rate
    p99 = ms(latency.latencies(latency.replied), 0.99)
    return [
        Check(
            ratio >= RATIO_TARGET,
            f"worker throughput: {worker.rate:,.1f} msg/s = {ratio:.3f} x the ceiling's "
            f"{best.rate:,.1f} msg/s ({best.target}) (target >= {RATIO_TARGET:.2f})",
        ),
        Check(
            p99 < P99_TARGET_MS,
            f"end-to-end p99 at {latency.rate} webhooks/s: {p99:,.1f} ms "
            f"(target < {P99_TARGET_MS:,.0f} ms)",
        ),
    ]


def verdicts(runs: Sequence[Throughput], latency: EndToEnd) -> Verdicts:
    return Verdicts(behaviour(runs, latency), targets(runs, latency))
