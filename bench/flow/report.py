"""The flow benchmark's report: the machine, the command, the method, the throughput and
latency tables, the verdicts and the notes."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from datetime import datetime

from bench.flow.ceiling import CEILING
from bench.flow.end_to_end import POLL_SECONDS, EndToEnd
from bench.flow.messages import CONVERSATIONS
from bench.flow.rig import Plan
from bench.flow.run import Results
from bench.flow.throughput import Throughput, find
from bench.flow.verdicts import verdicts
from bench.harness.meter import CPU_NAMES, cpu_cell
from bench.harness.report import markdown, number
from bench.harness.stats import ms

DISTURBED = 0.15  # share of a core used by processes outside the benchmark: flagged


def throughput_table(runs: Sequence[Throughput]) -> list[str]:
    best = find(runs, CEILING).rate
    header = ["target", "messages", "seconds", "msg/s", "x ceiling", "CPU ms/msg"]
    header.append("CPU % " + "/".join(CPU_NAMES))
    rows = [
        [
            run.target,
            str(run.count),
            number(run.seconds, 2),
            number(run.rate),
            f"{run.rate / best:.3f}",
            number(run.cpu_per_message, 2),
            cpu_cell(run.cpu),
        ]
        for run in runs
    ]
    return markdown(header, rows)


def latency_table(run: EndToEnd) -> list[str]:
    spans = [
        ("POST due -> reply at the stand-in", run.latencies(run.replied)),
        ("POST due -> ingest's 200", run.latencies(run.answered)),
        (
            "ingest's 200 -> reply at the stand-in",
            [run.replied[c] - run.answered[c] for c in run.replied if c in run.answered],
        ),
    ]
    header = ["span", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    rows = [
        [name, str(len(values)), *(number(ms(values, q)) for q in (0.5, 0.9, 0.99, 1.0))]
        for name, values in spans
    ]
    return markdown(header, rows)


def notes(runs: Sequence[Throughput], latency: EndToEnd) -> list[str]:
    lines = [f"- {run.target}: {note}" for run in runs for note in run.notes]
    lines += [
        f"- {run.target}: other processes used {run.cpu['other']:.0%} of a core: disturbed"
        for run in runs
        if run.cpu.get("other", 0.0) > DISTURBED
    ]
    if latency.cpu.get("other", 0.0) > DISTURBED:
        lines.append(f"- end to end: other processes used {latency.cpu['other']:.0%}: disturbed")
    if latency.errors:
        lines.append(f"- end to end: {', '.join(f'{k} x{v}' for k, v in latency.errors.items())}")
    lag, polls = latency.lag, latency.polls
    lines.append(
        f"- end to end: {len(latency.due)} webhooks; client lag p99 {number(ms(lag, 0.99), 2)} ms; "
        f"the stand-in's record read {len(polls)} times, p50 {number(ms(polls, 0.5), 2)} ms, "
        f"p99 {number(ms(polls, 0.99), 2)} ms a read; "
        f"CPU % {'/'.join(CPU_NAMES)}: {cpu_cell(latency.cpu)}"
    )
    return lines


def method(plan: Plan) -> str:
    return (
        f"Throughput: {plan.messages} Chatwoot `message.received` events (knowledge-base "
        f"questions over {min(plan.messages, CONVERSATIONS)} conversations), pre-encoded and "
        "produced straight to the inbound topic after a one-message warm-up; the worker's "
        "time runs from the first produced to the N-th action fetched from the actions topic. "
        "The ceilings read the same inbound records (plus the warm-up's) with their own "
        "consumer groups, timed from their first fetch: decode, `actions_for` with a fixed "
        "reply outcome, encode, produce (acks=all, linger 0, as the worker's Faust producer), "
        "commit per fetched batch; `batch acks` awaits a batch's acks together, `ack each` "
        "awaits each before the next record, as the worker does. End to end: signed Chatwoot "
        f"`message_created` webhooks to `switchboard ingest` at {plan.rate}/s for "
        f"{plan.seconds:g} s, one conversation each, timed from when each POST was due to "
        f"the poll of the Chatwoot stand-in's record (every {POLL_SECONDS * 1000:.0f} ms) that "
        "first showed its reply. CPU is each process's share of one core (100 = one core "
        "busy): worker, ingest, the Kafka broker, PostgreSQL (postmaster and backends), this "
        "process (load generator, ceilings and stand-ins), and every other process. "
        "CPU ms/msg is what the process doing the work (the worker; this process for the "
        "ceilings) spent per message: less disturbed than msg/s by other load on the machine."
    )


def render(results: Results, plan: Plan, started: datetime, *, judged: bool) -> tuple[str, bool]:
    """The report, and whether it passed: on its behaviour alone, or also on its targets
    when they are `judged` (a full run)."""
    runs, latency = results.throughput, results.latency
    checks = verdicts(runs, latency)
    lines = [
        f"# Flow benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in results.info),
        "",
        method(plan),
        "",
        *throughput_table(runs),
        "",
        *latency_table(latency),
        "",
        *checks.lines(judged=judged),
        "",
        "Notes:",
        *notes(runs, latency),
    ]
    return "\n".join(lines) + "\n", checks.passed(judged=judged)
