"""`switchboard replay`: the request, the per-partition ranges and the refusals. Pure.

A replay names a topic and where to start, by time (``--from-time``) or by offset
(``--from-offset``, the same offset on every partition), and optionally where to stop
(``--to-time``, exclusive). Times are UTC and must say so: an ISO time without an offset
(``2026-11-26T10:00``) is refused rather than guessed.

The broker answers with, per partition, the first and next offsets of the log and the first
offset at or after each time (``offsets_for_times``; none when no record is that late). From
those answers a partition's range is ``[start, end)``: ``start`` is the first record at or
after the start time (the log end when there is none), ``end`` the first record at or after
the end time (the log end without one). An offset outside the log is clamped into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from schemas.catalogue import ACTIONS, CATALOGUE, CONTACT_EVENTS, INBOUND, Topic

Mode = Literal["offsets", "republish"]

# What the worker reads, and so what can be re-published into the pipeline.
REPUBLISHABLE = (INBOUND, CONTACT_EVENTS, ACTIONS)


class ReplayRefusedError(Exception):
    """A request that must not run; the message says why, for the person who asked."""


def parse_utc(text: str) -> datetime:
    """An ISO-8601 time with an explicit offset (``Z`` or ``+00:00``…), as given."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReplayRefusedError(f"{text!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ReplayRefusedError(
            f"{text!r} has no UTC offset: write it as {text.strip()}Z (UTC) or with +HH:MM, "
            "so that nobody has to guess which clock it was read from"
        )
    return moment


def resolve_topic(name: str, prefix: str) -> Topic:
    """A catalogue topic, named with or without the deployment's prefix."""
    for topic in CATALOGUE:
        if name in (topic.name, topic.full_name(prefix)):
            return topic
    known = ", ".join(topic.name for topic in CATALOGUE)
    raise ReplayRefusedError(f"{name!r} is not a topic of the catalogue ({known})")


@dataclass(frozen=True)
class ReplayRequest:
    topic: Topic
    full_topic: str
    group: str
    from_time: datetime | None = None
    from_offset: int | None = None
    to_time: datetime | None = None
    mode: Mode = "offsets"
    dry_run: bool = False
    resend: bool = False


def build_request(
    *,
    topic: str,
    prefix: str,
    worker_group: str,
    from_time: str | None = None,
    from_offset: int | None = None,
    to_time: str | None = None,
    group: str | None = None,
    republish: bool = False,
    dry_run: bool = False,
    resend: bool = False,
) -> ReplayRequest:
    """The validated request; `ReplayRefusedError` with a clear message otherwise."""
    if (from_time is None) == (from_offset is None):
        raise ReplayRefusedError("give exactly one of --from-time and --from-offset")
    if from_offset is not None and from_offset < 0:
        raise ReplayRefusedError(f"--from-offset must be 0 or more, not {from_offset}")
    start = parse_utc(from_time) if from_time is not None else None
    end = parse_utc(to_time) if to_time is not None else None
    if start is not None and end is not None and end <= start:
        raise ReplayRefusedError("--to-time must be later than --from-time")
    resolved = resolve_topic(topic, prefix)
    if republish and group is not None:
        raise ReplayRefusedError("--group moves a group's offsets; --republish moves none")
    if republish and resolved not in REPUBLISHABLE:
        names = ", ".join(t.name for t in REPUBLISHABLE)
        raise ReplayRefusedError(f"only the topics the worker reads can be re-published ({names})")
    return ReplayRequest(
        topic=resolved,
        full_topic=resolved.full_name(prefix),
        group=group or worker_group,
        from_time=start,
        from_offset=from_offset,
        to_time=end,
        mode="republish" if republish else "offsets",
        dry_run=dry_run,
        resend=resend,
    )


@dataclass(frozen=True)
class LogBounds:
    """What the broker said about one partition."""

    beginning: int  # first offset still held
    end: int  # next offset to be written
    at_start_time: int | None = None  # offsets_for_times(from_time); None: no such record
    at_end_time: int | None = None  # offsets_for_times(to_time); None: no such record


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    start: int
    end: int  # exclusive

    @property
    def count(self) -> int:
        return self.end - self.start


def _clamp(offset: int, bounds: LogBounds) -> int:
    return max(bounds.beginning, min(offset, bounds.end))


def partition_range(request: ReplayRequest, partition: int, bounds: LogBounds) -> PartitionRange:
    if request.from_offset is not None:
        start = _clamp(request.from_offset, bounds)
    elif bounds.at_start_time is None:
        start = bounds.end
    else:
        start = _clamp(bounds.at_start_time, bounds)
    end = bounds.end
    if request.to_time is not None and bounds.at_end_time is not None:
        end = _clamp(bounds.at_end_time, bounds)
    return PartitionRange(partition, start, max(start, end))


@dataclass(frozen=True)
class ReplayPlan:
    request: ReplayRequest
    partitions: tuple[PartitionRange, ...]

    @property
    def total(self) -> int:
        return sum(p.count for p in self.partitions)


def make_plan(request: ReplayRequest, bounds: Mapping[int, LogBounds]) -> ReplayPlan:
    ranges = tuple(partition_range(request, p, bounds[p]) for p in sorted(bounds))
    return ReplayPlan(request, ranges)


def refusal(request: ReplayRequest, members: int, *, worker_group: str) -> str | None:
    """Why the group's offsets must not be moved, or None. Re-publishing moves none."""
    if request.mode == "republish":
        return None
    if members > 0:
        noun = "member" if members == 1 else "members"
        return (
            f"consumer group {request.group!r} has {members} active {noun}: stop them first "
            "(a running consumer would overwrite the offsets with its own commits), or "
            "replay into a new group with --group"
        )
    if request.group == worker_group and request.topic == ACTIONS and not request.resend:
        return (
            f"moving {worker_group!r} back on {request.full_topic} makes its deliver agent "
            "send every action in the range not recorded as delivered; add --resend if that "
            "is what you want, or use --republish, which sends nothing"
        )
    return None
