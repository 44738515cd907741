"""The recovery report: the Faust settings in force, the method, each kill's times and
their medians, and the verdicts. Behaviour (every message answered exactly once) is always
judged; the target (every partition answered again within 15 s of a kill) depends on the
machine."""

from __future__ import annotations

import shlex
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime

from bench.harness.report import markdown
from bench.harness.verdicts import Check, Verdicts
from bench.recovery.exactly_once import Counts
from bench.recovery.rig import Episode, Plan, Rig
from schemas.catalogue import INBOUND
from streams.runtime.app import create_app
from switchboard.settings import Settings

TARGET_SECONDS = 15.0
KINDS = ("restart", "takeover")
TIMES = ("first", "partitions", "caught_up")  # an Episode's times, in the table's order
HEADER = ["kill", "first action s", "every partition s", "backlog answered s", "backlog msgs"]


def faust_settings(settings: Settings) -> str:
    conf = create_app(settings).conf
    return (
        f"session timeout {conf.broker_session_timeout:g} s, heartbeat "
        f"{conf.broker_heartbeat_interval:g} s, rebalance timeout "
        f"{conf.broker_rebalance_timeout:g} s, request timeout {conf.broker_request_timeout:g} s, "
        f"max poll interval {conf.broker_max_poll_interval:g} s (streams/runtime/app.py)"
    )


def _s(value: float) -> str:
    return f"{value:.2f}"


def of_kind(episodes: Sequence[Episode], kind: str) -> list[Episode]:
    return [e for e in episodes if e.kind == kind]


def medians(episodes: Sequence[Episode]) -> list[float]:
    return [statistics.median(getattr(e, a) for e in episodes) for a in TIMES]


def table(episodes: Sequence[Episode]) -> list[str]:
    rows = []
    for kind in KINDS:
        mine = of_kind(episodes, kind)
        for n, e in enumerate(mine, 1):
            rows.append([f"{kind} {n}", *(_s(getattr(e, a)) for a in TIMES), str(e.backlog)])
        if mine:
            rows.append([f"{kind}, median", *(_s(v) for v in medians(mine)), ""])
    return markdown(HEADER, rows)


def verdicts(episodes: Sequence[Episode], counts: Counts) -> Verdicts:
    once = Check(
        counts.once,
        f"every message answered exactly once: {counts.sent} sent, {counts.missing} without "
        f"an action, {counts.unreplied} without a reply at the Chatwoot stand-in, "
        f"{counts.twice} replies repeated",
    )
    targets = []
    for kind in KINDS:
        mine = of_kind(episodes, kind)
        if mine:
            worst, median = max(e.partitions for e in mine), medians(mine)[1]
            text = (
                f"{kind}: every partition answered again within {worst:.2f} s of the kill at "
                f"worst, median {median:.2f} s (target < {TARGET_SECONDS:g} s)"
            )
            targets.append(Check(worst < TARGET_SECONDS, text))
    return Verdicts([once], targets)


def render(
    rig: Rig, counts: Counts, info: list[tuple[str, str]], started: datetime, *, judged: bool
) -> tuple[str, bool]:
    """The report, and whether it passed: on behaviour alone, or on the targets too when
    `judged` (a full run)."""
    command = shlex.join(sys.orig_argv)
    checks = verdicts(rig.episodes, counts)
    lines = [
        f"# Recovery benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        *(f"- {name}: {value}" for name, value in info),
        f"- Faust: {faust_settings(rig.settings)}",
        "- shared machine: other work ran on the same 2 cores; compare rows of this run only",
        "",
        method(rig.plan),
        "",
        *table(rig.episodes),
        "",
        *checks.lines(judged=judged),
        "",
        "Notes:",
        f"- the sender fell behind its schedule by {rig.stream.behind:.3f} s at most",
        f"- action records repeated on the actions topic (same action id, absorbed by the "
        f"idempotent delivery and storage): {counts.repeated}; replies received: "
        f"{counts.replies}",
    ]
    return "\n".join(lines) + "\n", checks.passed(judged=judged)


def method(plan: Plan) -> str:
    return (
        f"A steady {plan.rate} Chatwoot `message.received` events a second (each in a new "
        f"conversation, over the {INBOUND.partitions} inbound partitions) go straight to the "
        "inbound topic (acks=all) for the whole run; one `switchboard worker` (offline "
        f"responder) answers them. Restart: after {plan.steady:g} s of steady flow the worker "
        "gets SIGKILL and a new one is started at once; "
        f"{plan.restarts} times. Takeover: a second worker joins, the group settles (both "
        f"hold inbound partitions), {plan.steady:g} s later the older one gets SIGKILL and is "
        f"not replaced; {plan.takeovers} times. Times are seconds from the kill to: the first "
        "action any worker produced after it; the first action after it on every inbound "
        "partition (each partition gets a message every "
        f"{INBOUND.partitions / plan.rate:.2f} s on average, which bounds the resolution); "
        "the last action answering a message sent before that moment (the backlog caught "
        "up). Backlog msgs counts the messages answered after the kill among those. Clocks: "
        "the record timestamps of the messages (set by this script's producer) and of the "
        "actions (set by the worker's producer), one machine."
    )
