"""The report of an erasure run: its method, the times beside the floor, when each target
completed, physical removal, the verdicts and notes."""

from __future__ import annotations

import math
import shlex
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime

from bench.erasure.erasing import Erased
from bench.erasure.floor import FLOOR_RUNS
from bench.erasure.judge import verdicts
from bench.erasure.phases import Results
from bench.erasure.removal import (
    CLEANER_BACKOFF_MS,
    FILE_DELETE_DELAY_MS,
    SCRATCH,
    Removal,
    scratch_bound_s,
)
from bench.erasure.rig import Plan
from bench.harness.report import markdown, number
from bench.harness.stats import ms
from schemas.catalogue import COMPACTION_BOUND_MS, DATA_KEYS

TARGET_ORDER = {
    "data-key": 0,
    "consent": 1,
    "conversation-state": 2,
    "exports": 3,
    "chatwoot": 4,
    "postgres": 5,
}


def seconds(values: Sequence[float], quantile: float) -> str:
    return number(ms(values, quantile) / 1000, 2)


def millis(values: Sequence[float], quantile: float) -> str:
    return number(ms(values, quantile), 1) + " ms"


def method(out: Results, plan: Plan) -> str:
    return (
        f"Set-up: {out.filled:,} sealed Chatwoot `message.received` events over "
        f"{plan.contacts:,} contacts ({plan.events_per_contact} each, one conversation each) "
        f"produced to inbound.v1 and stored with the worker's storage sink in "
        f"{out.fill_seconds:.0f} s; the worker's group starts at the topic's end. The "
        f"{plan.single + plan.burst} contacts to erase then each sent one more message the worker "
        f"stored, answered and delivered ({out.live_seconds:.0f} s), and exist in the Chatwoot "
        "stand-in. A request is a `gdpr_deletions` row then `erasure.requested` on "
        "contact-events.v1 (acks=all), as the compliance API makes it; time runs from just "
        "before the row to `completed_at` of the deletion and of each target (PostgreSQL's "
        "clock, same machine). One contact: requested one after another, each after the last "
        f"completed. Burst: {plan.burst} requested together; erasures/s is their number over the "
        "time to the last completed (polled every 0.2 s). Floor: `delete_contact_rows` (the "
        "`postgres` target's statements in one transaction) for contacts with the same history, "
        "and one tombstone on data-keys.v1 produced with acks=all; each "
        f"{FLOOR_RUNS} times."
    )


def times_table(out: Results, plan: Plan) -> list[str]:
    """Request to completed, one at a time and at once, beside the floor."""
    single = [e.seconds for e in out.single]
    burst = [e.seconds for e in out.burst if not math.isnan(e.seconds)]
    rate = out.burst_done / out.burst_wall if out.burst_wall else math.nan
    pg, tomb = out.floor_pg, out.floor_tombstone
    median = number(statistics.median(single), 2) if single else "-"
    return markdown(
        ["measure", "count", "p50 s", "p99 s", "max s", "note"],
        [
            [
                "one contact (request -> completed)",
                str(len(single)),
                *(seconds(single, q) for q in (0.5, 0.99, 1.0)),
                f"median {median} s",
            ],
            [
                f"{plan.burst} at once, per deletion",
                str(len(burst)),
                *(seconds(burst, q) for q in (0.5, 0.99, 1.0)),
                f"{rate:,.1f} erasures/s",
            ],
            [
                "floor: the postgres target's SQL alone",
                str(len(pg)),
                millis(pg, 0.5),
                "",
                millis(pg, 1.0),
                "in milliseconds",
            ],
            [
                "floor: one tombstone, acks=all",
                str(len(tomb)),
                millis(tomb, 0.5),
                "",
                millis(tomb, 1.0),
                "in milliseconds",
            ],
        ],
    )


def target_table(erased: Sequence[Erased]) -> list[str]:
    """When each target completed, p50 and max seconds after the request."""
    names = sorted({t for e in erased for t in e.targets}, key=lambda t: TARGET_ORDER.get(t, 9))
    rows = []
    for label, pick in (("p50 s", 0.5), ("max s", 1.0)):
        cells = [label]
        for name in names:
            cells.append(seconds([e.targets[name] for e in erased if name in e.targets], pick))
        cells.append(seconds([e.seconds for e in erased], pick))
        rows.append(cells)
    return markdown(["", *names, "completed"], rows)


def removal_lines(removal: Removal | None) -> list[str]:
    bound = COMPACTION_BOUND_MS / 1000
    lines = [
        f"Physical removal bound (schemas/catalogue.py): `COMPACTION_BOUND_MS` = {bound:,.0f} s "
        f"({bound / 3600:g} h) for data-keys.v1: segment.ms {DATA_KEYS.config['segment.ms']} ms "
        f"+ max.compaction.lag.ms {DATA_KEYS.config['max.compaction.lag.ms']} ms"
        "; on top come the cleaner's back-off (15 s) and file.delete.delay.ms (60 s) before the "
        "old segment file leaves the disk; the tombstone itself "
        f"stays delete.retention.ms {DATA_KEYS.config['delete.retention.ms']} ms more.",
        "",
    ]
    if removal is None:
        return lines
    scratch = ", ".join(f"{k}={v}" for k, v in SCRATCH.items())
    lines.append(
        f"Shown on a scratch topic ({scratch}), reading the files in `{removal.folder}` every "
        f"0.5 s: the value left the live segments (`*.log`) {number(removal.compacted)} s after "
        f"the tombstone, and every file, including the cleaner's `*.deleted` leftovers, "
        f"{number(removal.value_gone)} s after it; the tombstone's key was gone after "
        f"{number(removal.tombstone_gone)} s (watched {removal.watched:.0f} s). Bound on this "
        f"topic: segment.ms + max.compaction.lag.ms + the cleaner's back-off "
        f"({CLEANER_BACKOFF_MS // 1000} s) + file.delete.delay.ms ({FILE_DELETE_DELAY_MS // 1000} "
        f"s) = {scratch_bound_s():g} s. A segment rolls only when a record is appended after "
        "segment.ms, so the bound holds while the topic's partition keeps being written to "
        "(here a record every 0.5 s)."
    )
    return lines


NOTES = [
    "The history was stored by the worker's storage sink called from this script, not by "
    "the worker (~50 msg/s); every erased contact's last message went through the worker.",
    "A single erasure that takes ~1-2 s had its conversation-state target still waiting "
    "for the converse agent's report when the contacts agent first drove it; the worker's "
    "erasure timer (every 2 s, `ERASURE_TIMER_SECONDS`) finished it.",
]


def render(out: Results, plan: Plan, started: datetime, *, judged: bool) -> tuple[str, bool]:
    """The report, and whether it passed: on its behaviour alone, or also on its targets
    when `judged` (a full run)."""
    judgement = verdicts(out, plan)
    lines = [
        f"# Erasure benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{shlex.join(sys.orig_argv)}`",
        "",
        *(f"- {name}: {value}" for name, value in out.info),
        "",
        method(out, plan),
        "",
        *times_table(out, plan),
        "",
        "When each target completed, seconds after the request (one contact at a time):",
        "",
        *target_table(out.single),
        "",
        f"The same for the {plan.burst} requested at once:",
        "",
        *target_table(out.burst),
        "",
        *removal_lines(out.removal),
        "",
        *judgement.lines(judged=judged),
        "",
        "Notes:",
        *(f"- {n}" for n in [*NOTES, *out.notes]),
    ]
    return "\n".join(lines) + "\n", judgement.passed(judged=judged)
