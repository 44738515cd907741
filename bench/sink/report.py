"""The sink report: each target's median rows/s beside pgbench's, the pgbench command and
script, and the verdicts. Behaviour (every row written is in the table) is always judged;
the target (batching at least as fast as pgbench's one-row commits) depends on the machine."""

from __future__ import annotations

import shlex
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime

from bench.harness.report import markdown, number
from bench.harness.verdicts import Check, Verdicts
from bench.sink.pgbench import CLIENTS, PGBENCH_TARGET
from bench.sink.rounds import Plan, Results
from bench.sink.rows import CONVERSATIONS
from bench.sink.targets import WORKER, Run
from streams.storage import BATCH_SIZE


def medians(runs: Sequence[Run]) -> dict[str, tuple[float, list[Run]]]:
    by: dict[str, list[Run]] = {}
    for run in runs:
        by.setdefault(run.target, []).append(run)
    return {t: (statistics.median(r.rate for r in rs), rs) for t, rs in by.items()}


def table(by: dict[str, tuple[float, list[Run]]], ceiling: float) -> list[str]:
    rows = [
        [
            target,
            number(rate, 0),
            f"{rate / ceiling:.2f}",
            ", ".join(f"{r.rate:,.0f}" for r in rs),
            str(sum(r.rows for r in rs)),
            f"{statistics.median(r.busy for r in rs) * 100:.0f}",
        ]
        for target, (rate, rs) in by.items()
    ]
    header = ["target", "rows/s", "x pgbench", "each round, rows/s", "rows", "machine busy %"]
    return markdown(header, rows)


def verdicts(out: Results, best: float, ceiling: float) -> Verdicts:
    lost = Check(
        out.stored == out.written,
        f"every row written is in the table: {out.stored} of {out.written} in `messages`",
    )
    batching = Check(
        best >= ceiling,
        f"batching beats one-row-a-transaction inserts: best batched variant "
        f"{best / ceiling:.1f} x pgbench (target >= 1)",
    )
    return Verdicts([lost], [batching])


def render(out: Results, plan: Plan, started: datetime, *, judged: bool) -> tuple[str, bool]:
    """The report, and whether it passed: on behaviour alone, or on the target too when
    `judged` (a full run)."""
    command = shlex.join(sys.orig_argv)
    by = medians(out.runs)
    ceiling = by[PGBENCH_TARGET][0]
    worker = by[WORKER][0]
    best = max(rate for t, (rate, _) in by.items() if t != PGBENCH_TARGET)
    checks = verdicts(out, best, ceiling)
    lines = [
        f"# PostgreSQL sink benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        *(f"- {name}: {value}" for name, value in out.info),
        "- shared machine: other work ran on the same 2 cores; compare rows of this run only",
        "",
        method(plan),
        "",
        *table(by, ceiling),
        "",
        f"pgbench, as run (the script below, in a temporary file): "
        f"`{shlex.join(out.pgbench_argv)}`",
        "",
        "```",
        out.script.rstrip(),
        "```",
        "",
        f"- worker path: {worker:,.0f} rows/s = {worker / ceiling:.2f} x pgbench's "
        f"{ceiling:,.0f} single-row INSERTs/s (`{command}`)",
        f"- best batched variant: {best:,.0f} rows/s = {best / ceiling:.1f} x pgbench "
        f"(`{command}`)",
        *checks.lines(judged=judged),
    ]
    return "\n".join(lines) + "\n", checks.passed(judged=judged)


def method(plan: Plan) -> str:
    return (
        f"Each round writes {plan.single:,} events through the worker path (one "
        f"`ConversationStore.write` a transaction, as the store agent does: conversation "
        f"upsert, message insert counting it, identities upsert) and {plan.batched:,} fresh "
        f"events through each batched target ({BATCH_SIZE} a transaction): the same store "
        "call, `executemany` of single-row INSERT ... ON CONFLICT DO NOTHING (conversations, "
        "then messages), and `copy_records_to_table` (new conversations, then messages); the "
        f"rows are built by `to_row`, before timing. Events come over {CONVERSATIONS} new "
        "conversations per target. pgbench runs its script (one single-row INSERT a "
        f"transaction, prepared) for {plan.pgbench_seconds} s into `pgbench_messages`, made "
        "`LIKE messages` with its keys and indexes; its rows/s is the `tps =` it prints. "
        f"Every target uses {CLIENTS} connection, as the worker's store agent writes one "
        f"batch at a time. {plan.rounds} round(s), the order reversed every other round; "
        "the figure is the median. Machine busy % is all cores' busy time over the wall "
        "time (200 = both cores busy)."
    )
