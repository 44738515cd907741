"""The kills and the times measured from each: a worker restarted at once, or one of two
killed for good and its partitions taken over; then the first action after the kill, every
inbound partition answered again, and the backlog answered."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

from bench.harness.errors import BenchError
from bench.harness.waiting import until
from bench.harness.worker import DRAIN_SECONDS, START_SECONDS
from bench.recovery.rig import POLL, Episode, Rig
from lag.offsets import read_once
from schemas.catalogue import INBOUND


def resumed(rig: Rig, episode: Episode) -> bool:
    """Fill in the first action and every partition answered again, once both happened."""
    after = {i: t for i, t in rig.watch.stamped.items() if t > episode.killed_at}
    if not after:
        return False
    episode.first = min(after.values()) - episode.killed_at
    firsts: dict[int, float] = {}
    for event_id, stamp in after.items():
        partition = rig.stream.partition.get(event_id)
        if partition is not None and stamp < firsts.get(partition, float("inf")):
            firsts[partition] = stamp
    if len(firsts) < INBOUND.partitions:
        return False
    episode.partitions = max(firsts.values()) - episode.killed_at
    return True


def caught_up(rig: Rig, episode: Episode) -> bool:
    """Everything sent before every partition was answered again has its action."""
    cut = episode.killed_at + episode.partitions
    backlog = [i for i, t in rig.stream.sent.items() if t <= cut]
    if any(i not in rig.watch.stamped for i in backlog):
        return False
    episode.caught_up = max(rig.watch.stamped[i] for i in backlog) - episode.killed_at
    episode.backlog = sum(1 for i in backlog if rig.watch.stamped[i] > episode.killed_at)
    return True


async def recovered(rig: Rig, episode: Episode) -> Episode:
    """Times come from record timestamps: reading them every 0.1 s loses nothing."""
    check = rig.workers.check
    await until(
        lambda: resumed(rig, episode), DRAIN_SECONDS, "processing after the kill", check, POLL
    )
    try:
        await until(lambda: caught_up(rig, episode), DRAIN_SECONDS, "the backlog", check, POLL)
    except BenchError as exc:
        cut = episode.killed_at + episode.partitions
        waiting = [i for i, t in rig.stream.sent.items() if t <= cut and i not in rig.watch.stamped]
        where = Counter(rig.stream.partition[i] for i in waiting)
        raise BenchError(
            f"{exc}: {len(waiting)} unanswered, by partition {dict(where)}: {waiting[:5]}"
        ) from exc
    rig.episodes.append(episode)
    print(
        f"  {episode.kind}: first action {episode.first:6.2f} s, every partition "
        f"{episode.partitions:6.2f} s, backlog of {episode.backlog} answered "
        f"{episode.caught_up:6.2f} s after the kill",
        file=sys.stderr,
        flush=True,
    )
    return episode


async def group_stable(rig: Rig, members: int) -> None:
    """The worker group is Stable with this many members, each holding inbound partitions."""
    inbound = rig.names.topic(INBOUND)

    async def stable() -> bool:
        snapshot = await read_once(
            rig.settings.kafka_bootstrap_servers, "", only=[rig.names.worker_group]
        )
        (group,) = snapshot.groups
        holding = [m for m in group.members if any(t == inbound for t, _ in m.assignment)]
        return group.state == "Stable" and len(group.members) == members == len(holding)

    deadline = time.perf_counter() + START_SECONDS
    while not await stable():
        rig.workers.check()
        if time.perf_counter() > deadline:
            raise BenchError(f"the group did not settle with {members} members")
        await asyncio.sleep(0.5)


async def restarts(rig: Rig) -> None:
    (worker,) = rig.workers.running
    for n in range(rig.plan.restarts):
        await asyncio.sleep(rig.plan.steady)
        print(f"restart {n + 1} of {rig.plan.restarts}", file=sys.stderr, flush=True)
        killed_at = rig.workers.kill(worker)
        worker = rig.workers.start()
        await recovered(rig, Episode("restart", killed_at))


async def takeovers(rig: Rig) -> None:
    for n in range(rig.plan.takeovers):
        print(f"takeover {n + 1} of {rig.plan.takeovers}", file=sys.stderr, flush=True)
        rig.workers.start()
        await group_stable(rig, 2)
        await asyncio.sleep(rig.plan.steady)
        killed_at = rig.workers.kill(rig.workers.running[0])  # the older one
        await recovered(rig, Episode("takeover", killed_at))
