"""The ingest benchmark's verdicts, in the two kinds of `bench.harness.verdicts`: behaviour
(every ingest request answered, under the client's loops and under wrk), judged in every
run; targets (p99s, throughput against bare and the seed design, scaling with processes),
which depend on the machine and are judged by a full run only."""

from __future__ import annotations

from collections.abc import Sequence

from bench.harness.verdicts import Check, Verdicts
from bench.harness.wrk import Saturation
from bench.ingest.loops import Run, find
from bench.ingest.plan import SATURATION_CONNECTIONS, Plan
from bench.ingest.saturation import Saturated
from bench.ingest.servers import INGEST_WORKERS

P99_TARGET_MS = 50.0  # ingest's p99 in the open loop
RATIO_TARGET = 0.5  # ingest's best throughput, at least half of bare's best
SEED_P99_RATIO = 1.0  # ingest's p99 at 32 connections, at most the seed's
SEED_RATE_RATIO = 2.0  # ingest's throughput at 32 connections, at least twice the seed's


def loop_behaviour(runs: Sequence[Run]) -> list[Check]:
    failed = sum(run.errors_total for run in runs if run.target == "ingest")
    return [Check(failed == 0, f"every ingest request answered 200: {failed} did not")]


def loop_targets(runs: Sequence[Run], plan: Plan) -> list[Check]:
    (steady,) = find(runs, "ingest", "open")
    p99 = steady.ms(0.99)
    best_bare = max(run.rate for run in find(runs, "bare", "closed"))
    best_ingest = max(run.rate for run in find(runs, "ingest", "closed"))
    ratio = best_ingest / best_bare
    return [
        Check(
            p99 < P99_TARGET_MS,
            f"ingest p99 at {plan.rate} req/s: {p99:.1f} ms (target < {P99_TARGET_MS:.0f} ms)",
        ),
        Check(
            ratio >= RATIO_TARGET,
            f"ingest throughput at its best concurrency: {best_ingest:,.0f} req/s = {ratio:.2f}"
            f" x bare's best {best_bare:,.0f} req/s (target >= {RATIO_TARGET:.2f})",
        ),
    ]


def at_saturation(saturated: Sequence[Saturated], target: str) -> Saturation:
    (found,) = (
        s.result
        for s in saturated
        if s.result.target == target and s.result.connections == SATURATION_CONNECTIONS
    )
    return found


def saturation_behaviour(saturated: Sequence[Saturated]) -> list[Check]:
    failed = sum(s.result.failed for s in saturated if s.result.target.startswith("ingest"))
    return [Check(failed == 0, f"every ingest request under wrk answered 2xx: {failed} did not")]


def saturation_targets(saturated: Sequence[Saturated]) -> list[Check]:
    """Ingest against the seed design at 32 connections, and one process against two."""
    seed, ingest = at_saturation(saturated, "seed"), at_saturation(saturated, "ingest")
    workers = at_saturation(saturated, f"ingest x{INGEST_WORKERS}")
    c = SATURATION_CONNECTIONS
    return [
        Check(
            ingest.p99_ms <= seed.p99_ms * SEED_P99_RATIO,
            f"ingest p99 at {c} connections: {ingest.p99_ms:.1f} ms against the seed design's "
            f"{seed.p99_ms:.1f} ms (target: at most the seed's)",
        ),
        Check(
            ingest.rate >= seed.rate * SEED_RATE_RATIO,
            f"ingest throughput at {c} connections: {ingest.rate:,.0f} req/s = "
            f"{ingest.rate / seed.rate:.2f} x the seed design's {seed.rate:,.0f} req/s "
            f"(target >= {SEED_RATE_RATIO:.1f})",
        ),
        Check(
            workers.rate > ingest.rate,
            f"ingest --workers {INGEST_WORKERS}: {workers.rate:,.0f} req/s = "
            f"{workers.rate / ingest.rate:.2f} x one process (target > 1: scales with processes"
            f"), p99 {workers.p99_ms:.1f} ms",
        ),
    ]


def verdicts(runs: Sequence[Run], saturated: Sequence[Saturated], plan: Plan) -> Verdicts:
    """Every check of a run; the closed- and open-loop ones only if those phases ran."""
    return Verdicts(
        behaviour=[*saturation_behaviour(saturated), *(loop_behaviour(runs) if runs else [])],
        targets=[*saturation_targets(saturated), *(loop_targets(runs, plan) if runs else [])],
    )
