"""What `switchboard replay` prints: the plan, the progress bar and the summary. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streams.replay.plan import ReplayPlan

BAR_WIDTH = 30


@dataclass
class Tally:
    """What a re-publication did with the records of its range."""

    republished: int = 0
    erased: int = 0
    unreadable: int = 0

    @property
    def read(self) -> int:
        return self.republished + self.erased + self.unreadable


def _where(plan: ReplayPlan) -> str:
    request = plan.request
    if request.from_offset is not None:
        start = f"offset {request.from_offset}"
    else:
        assert request.from_time is not None  # noqa: S101 - build_request guarantees one
        start = request.from_time.isoformat()
    end = request.to_time.isoformat() if request.to_time is not None else "the log end"
    return f"{request.full_topic} from {start} to {end}"


def render_plan(plan: ReplayPlan, current: Mapping[int, int] | None = None) -> str:
    """Per partition: from, to (exclusive), count; with `current` (a group's committed
    offsets, ``-`` where it has none), where the group stands now."""
    now = "" if current is None else f"  {'CURRENT':>12}"
    lines = [f"{'PARTITION':>9}{now}  {'FROM':>12}  {'TO':>12}  {'COUNT':>10}"]
    for p in plan.partitions:
        if current is not None:
            now = f"  {current.get(p.partition, '-'):>12}"
        lines.append(f"{p.partition:>9}{now}  {p.start:>12}  {p.end:>12}  {p.count:>10}")
    blank = "" if current is None else f"  {'':>12}"
    lines.append(f"{'total':>9}{blank}  {'':>12}  {'':>12}  {plan.total:>10}")
    return "\n".join(lines)


def headline(plan: ReplayPlan, *, dry_run: bool) -> str:
    request = plan.request
    verb = "would" if dry_run else "will"
    where = _where(plan)
    if request.mode == "republish":
        sends = "and send replies again" if request.resend else "sending nothing to customers"
        return f"{verb} re-publish {plan.total} records of {where}, {sends}"
    return f"{verb} set group {request.group!r} to the start of {where}: {plan.total} records"


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#######.......]  350/1000  35%``; a range of nothing is complete."""
    fraction = 1.0 if total <= 0 else min(1.0, done / total)
    filled = int(fraction * width)
    bar = "#" * filled + "." * (width - filled)
    return f"[{bar}] {done:>{len(str(total))}}/{total} {fraction:4.0%}"


def summary(plan: ReplayPlan, tally: Tally | None = None, *, replay_group: bool = False) -> str:
    """The closing lines: partitions, records in range, and what became of them."""
    request = plan.request
    lines = [
        f"topic: {request.full_topic}",
        f"partitions: {len(plan.partitions)}",
        f"records in range: {plan.total}",
    ]
    if tally is None:
        lines.append(f"group {request.group!r} set to the start offsets above")
        if replay_group:
            sends = "sends replies not delivered before" if request.resend else "sends nothing"
            lines.append(f"a Switchboard worker run in this group {sends} (a replay group)")
    else:
        lines += [
            f"republished: {tally.republished}",
            f"skipped (erased): {tally.erased}",
            f"skipped (unreadable): {tally.unreadable}",
            "replies: " + ("sent where not delivered before" if request.resend else "suppressed"),
        ]
    return "\n".join(lines)
