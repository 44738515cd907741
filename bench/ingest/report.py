"""The ingest benchmark's report: the machine and stack, a table per phase, the ingest/bare
ratios, the saturation table, the verdicts and notes."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from importlib.util import find_spec

from bench.harness.machine import machine
from bench.harness.report import markdown, number
from bench.harness.wrk import whole_seconds
from bench.ingest.cpu import DISTURBED, cpu_cell
from bench.ingest.judge import verdicts
from bench.ingest.loops import Run, find
from bench.ingest.messages import saturation_body
from bench.ingest.phases import RAW
from bench.ingest.plan import Plan
from bench.ingest.saturation import Saturated


def description() -> list[tuple[str, str]]:
    accelerators = [m for m in ("uvloop", "httptools") if find_spec(m) is not None]
    stack = ", ".join(f"{n} {metadata.version(n)}" for n in ("fastapi", "uvicorn", *accelerators))
    return [
        *machine(),
        ("servers", f"{stack}; 1 worker, access log off"),
        ("client", f"aiohttp {metadata.version('aiohttp')} on uvloop, keep-alive pool"),
        ("producer", f"aiokafka {metadata.version('aiokafka')}, acks=all, idempotent, linger 1 ms"),
    ]


def results_table(runs: Sequence[Run]) -> list[str]:
    header = ["target", "load", "req/s", "p50 ms", "p99 ms", "max ms", "ok", "errors"]
    header += ["lag p99 ms", "CPU % srv/kafka/client/other"]
    rows = [
        [
            run.target,
            run.load,
            number(run.rate, 0),
            number(run.ms(0.5), 2),
            number(run.ms(0.99), 2),
            number(run.ms(1.0), 2),
            str(len(run.latencies)),
            str(run.errors_total),
            number(run.ms(0.99, run.lag), 2) if run.lag else "-",
            run.cpu_cell,
        ]
        for run in runs
    ]
    return markdown(header, rows, left=2)


def ratio_table(runs: Sequence[Run]) -> list[str]:
    bare, ingest = find(runs, "bare", "closed"), find(runs, "ingest", "closed")
    raw = find(runs, RAW, "closed")
    rows = [
        [
            str(b.level),
            number(b.rate, 0),
            number(i.rate, 0),
            f"{i.rate / b.rate:.2f}",
            number(r.rate, 0),
        ]
        for b, i, r in zip(bare, ingest, raw, strict=True)
    ]
    header = ["concurrency", "bare req/s", "ingest req/s", "ingest/bare", "raw producer req/s"]
    return markdown(header, rows)


def closed_and_open(runs: Sequence[Run], plan: Plan) -> list[str]:
    return [
        f"Closed loop: {plan.closed_seconds:g} s per phase; open loop: {plan.rate} req/s for "
        f"{plan.open_seconds:g} s, latency from each request's scheduled time; every phase "
        f"after a {plan.warmup:g} s warm-up; phases interleaved in one run. Latencies are of "
        "successful requests; lag is how far the client's dispatch fell behind schedule; CPU is "
        "each process's share of one core (100 = one core busy) for the server under test, "
        "the Kafka broker, this load generator (which hosts the raw producer) and every other "
        f"process on the machine; a phase where others used over {DISTURBED:.0%} is flagged.",
        "",
        *results_table(runs),
        "",
        *ratio_table(runs),
        "",
    ]


def saturation_table(saturated: Sequence[Saturated]) -> list[str]:
    header = ["target", "connections", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    header += ["failed", "CPU % srv/kafka/wrk+client/other"]
    rows = [
        [
            s.result.target,
            str(s.result.connections),
            number(s.result.rate, 0),
            number(s.result.p50_ms, 2),
            number(s.result.p90_ms, 2),
            number(s.result.p99_ms, 2),
            number(s.result.max_ms, 2),
            str(s.result.failed),
            cpu_cell(s.cpu),
        ]
        for s in saturated
    ]
    return markdown(header, rows, left=1)


def saturation(saturated: Sequence[Saturated], plan: Plan) -> list[str]:
    return [
        f"Saturation: wrk 4.x, 1 thread, {whole_seconds(plan.saturation_seconds)} s per phase "
        f"after a {whole_seconds(plan.warmup)} s warm-up, one signed "
        f"{len(saturation_body()[0])}-byte WhatsApp message sent over and over (one event, "
        "one partition); the seed design is FastAPI, "
        "the same HMAC check and a Celery `.delay()` to Redis (bench/harness/seed.py); "
        "failed counts "
        "answers outside 2xx and socket errors.",
        "",
        *saturation_table(saturated),
        "",
    ]


def notes(runs: Sequence[Run]) -> list[str]:
    lines = [
        f"- {run.target} {run.load}: {', '.join(f'{k} x{v}' for k, v in run.errors.items())}"
        for run in runs
        if run.errors
    ]
    lines += [f"- {run.target} {run.load}: {note}" for run in runs for note in run.notes]
    return lines


def render(
    measured: tuple[list[Run], list[Saturated]],
    plan: Plan,
    info: Sequence[tuple[str, str]],
    started: datetime,
    *,
    judged: bool,
) -> tuple[str, bool]:
    """The report, and whether it passed: on its behaviour alone, or also on its targets
    when `judged` (a full run)."""
    runs, saturated = measured
    checks = verdicts(runs, saturated, plan)
    lines = [
        f"# Ingest benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in info),
        "",
        *(closed_and_open(runs, plan) if runs else []),
        *saturation(saturated, plan),
        *checks.lines(judged=judged),
    ]
    extra = notes(runs)
    if extra:
        lines += ["", "Notes:", *extra]
    return "\n".join(lines) + "\n", checks.passed(judged=judged)
