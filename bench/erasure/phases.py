"""The phases of a run in order, and what they found (`Results`): the set-up (not timed),
one contact at a time, many at once, what is left and what the others keep, the floor, and
physical removal."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.erasure.erasing import Erased, erase
from bench.erasure.floor import FLOOR_RUNS, floor_postgres, floor_tombstone
from bench.erasure.leftovers import data_keys, leftovers, proofs, rows
from bench.erasure.removal import Removal, physical_removal
from bench.erasure.rig import Rig
from bench.erasure.seeding import fill, live_messages, seed_chatwoot, worker_starts_at_end
from bench.harness.children import Child
from bench.harness.errors import BenchError

SINGLE_SECONDS = 120.0  # the longest one erasure may take
BURST_SECONDS = 900.0  # the longest the burst may take


@dataclass
class Results:
    info: list[tuple[str, str]]
    filled: int = 0
    fill_seconds: float = 0.0
    live_seconds: float = 0.0
    single: list[Erased] = field(default_factory=list)
    burst: list[Erased] = field(default_factory=list)
    burst_wall: float = math.nan
    burst_done: int = 0
    floor_pg: list[float] = field(default_factory=list)
    floor_tombstone: list[float] = field(default_factory=list)
    removal: Removal | None = None
    left: dict[str, int] = field(default_factory=dict)  # of the erased contacts
    proofs: int = 0  # erased contacts with their proof on erasures.v1
    others: int = 0  # contacts not erased
    kept_before: dict[str, int] = field(default_factory=dict)  # their rows before the erasures
    kept_after: dict[str, int] = field(default_factory=dict)  # ... and after
    kept_keys: int = 0  # their data keys after the erasures
    notes: list[str] = field(default_factory=list)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def set_up(
    rig: Rig, out: Results, erased: Sequence[int], start_worker: Callable[[], Child]
) -> Callable[[], None]:
    """The history, then the worker and one live message per contact to erase; the check
    that the worker is still running."""
    say("filling the topics")
    out.filled, out.fill_seconds = await fill(rig)
    await worker_starts_at_end(rig)
    seed_chatwoot(rig, erased)
    check = start_worker().check
    say("worker handling one live message per contact to erase")
    out.live_seconds = await live_messages(rig, erased, check)
    return check


async def one_at_a_time(
    rig: Rig, out: Results, contacts: Sequence[int], check: Callable[[], None]
) -> None:
    say("one contact at a time")
    for contact in contacts:
        erased, _, done = await erase(rig, [contact], SINGLE_SECONDS, check)
        if done != 1:
            raise BenchError(f"an erasure did not complete within {SINGLE_SECONDS:g} s")
        out.single.extend(erased)
        say(f"  {erased[0].seconds:.2f} s")


async def all_at_once(
    rig: Rig, out: Results, contacts: Sequence[int], check: Callable[[], None]
) -> None:
    say(f"{len(contacts)} contacts at once")
    out.burst, out.burst_wall, out.burst_done = await erase(rig, contacts, BURST_SECONDS, check)
    say(f"  {out.burst_done}/{len(contacts)} in {out.burst_wall:.1f} s")


async def look(rig: Rig, out: Results, erased: Sequence[int], others: Sequence[int]) -> None:
    """What is left of the erased contacts, their proofs, and what the others kept."""
    out.left = await leftovers(rig, erased)
    out.proofs = await proofs(rig, [*out.single, *out.burst])
    out.kept_after = await rows(rig, others)
    out.kept_keys = await data_keys(rig, others)


async def phases(
    rig: Rig, out: Results, start_worker: Callable[[], Child], data_dir: Path | None
) -> None:
    plan = rig.plan
    erased = rig.contacts[: plan.single + plan.burst]
    others = rig.contacts[plan.single + plan.burst :]
    check = await set_up(rig, out, erased, start_worker)
    out.others, out.kept_before = len(others), await rows(rig, others)
    await one_at_a_time(rig, out, erased[: plan.single], check)
    await all_at_once(rig, out, erased[plan.single :], check)
    await look(rig, out, erased, others)
    floor = others[:FLOOR_RUNS]  # contacts not erased, with their history
    out.floor_pg = await floor_postgres(rig, floor)
    out.floor_tombstone = await floor_tombstone(rig, floor)
    if data_dir is None:
        out.notes.append("physical removal not shown: the broker's log.dirs was not found")
    else:
        say("watching a tombstoned value leave the segment files")
        out.removal = await physical_removal(rig, data_dir, plan.removal_seconds)
