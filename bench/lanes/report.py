"""The lanes report: the table of every variant's rows, and the verdicts on the keyed-lanes
worker. Behaviour (every customer answered) is always judged; the targets (effective
concurrency, 10 s while a destination is down) depend on the machine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bench.harness.report import markdown, number, revision
from bench.harness.verdicts import Check, Verdicts
from bench.lanes.rows import BACK, DOWN, MODEL_DELAY, SLOW, Row, slow_scenario
from bench.lanes.variants import LANES

# Effective concurrency wanted of one keyed-lanes worker, by number of customers.
CONCURRENCY_TARGETS = ((60, 20.0), (300, 40.0))
DOWN_TARGET_SECONDS = 10.0


def table(rows: Sequence[Row]) -> list[str]:
    body = [
        [
            row.scenario,
            row.variant,
            row.time,
            "" if row.concurrency is None else number(row.concurrency),
            "" if row.cpu_ms_per_message is None else number(row.cpu_ms_per_message),
        ]
        for row in rows
    ]
    header = ["scenario", "worker", "time", "effective concurrency", "worker CPU ms / message"]
    return markdown(header, body, left=2)


def find(rows: Sequence[Row], name: str, scenario: str) -> Row | None:
    return next((r for r in rows if r.variant == name and r.scenario == scenario), None)


def behaviour(rows: Sequence[Row]) -> list[Check]:
    """Every customer of the keyed-lanes worker answered, whatever the machine."""
    checks = [
        Check(row.seconds is not None, f"{row.scenario}: every customer answered: {row.time}")
        for row in rows
        if row.variant == LANES and row.scenario.startswith(SLOW)
    ]
    chatwoot = find(rows, LANES, DOWN)
    if chatwoot is not None:
        text = "every Chatwoot customer answered while the Graph API is down"
        checks.append(Check(chatwoot.seconds is not None, f"{text}: {chatwoot.time}"))
    whatsapp = find(rows, LANES, BACK)
    if whatsapp is not None:
        text = "every WhatsApp customer answered once it is back"
        checks.append(Check(whatsapp.seconds is not None, f"{text}: {whatsapp.time}"))
    return checks


def targets(rows: Sequence[Row]) -> list[Check]:
    """How many conversations one keyed-lanes worker keeps in flight, and how fast the
    customers of a working destination are answered while another is down."""
    checks: list[Check] = []
    for count, target in CONCURRENCY_TARGETS:
        row = find(rows, LANES, slow_scenario(count))
        if row is not None:
            value = row.concurrency or 0.0
            text = f"effective concurrency at N={count} ≥ {target:g}: {number(value)}"
            checks.append(Check(value >= target, text))
    chatwoot = find(rows, LANES, DOWN)
    if chatwoot is not None:
        ok = chatwoot.seconds is not None and chatwoot.seconds <= DOWN_TARGET_SECONDS
        text = (
            f"every Chatwoot customer answered within {DOWN_TARGET_SECONDS:g} s while the "
            "Graph API is down"
        )
        checks.append(Check(ok, f"{text}: {chatwoot.time}"))
    return checks


def render(rows: Sequence[Row], started: datetime, load: str, *, judged: bool) -> tuple[str, bool]:
    """The report, with `load` the load average before the run, and whether it passed: on
    behaviour alone, or on the targets too when `judged` (a full run)."""
    verdicts = Verdicts(behaviour(rows), targets(rows))
    lines = [
        f"# Conversations in flight ({started:%Y-%m-%d %H:%M} UTC, {revision()})",
        "",
        f"Load before the run: {load}. Model stand-in delay {MODEL_DELAY:g} s.",
        "",
        *table(rows),
        "",
        *verdicts.lines(judged=judged),
    ]
    return "\n".join(lines) + "\n", verdicts.passed(judged=judged)
