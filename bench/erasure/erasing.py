"""Erasures requested as the compliance API requests them, and timed: from just before the
`gdpr_deletions` row to the deletion's and each target's `completed_at`."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.erasure.rig import Rig
from schemas.catalogue import CONTACT_EVENTS
from schemas.events import encode, kafka_headers
from tests.integration.privacy_helpers import erasure_event

POLL_SECONDS = 0.02  # one deletion's row is polled this often; a burst's every 0.2 s


@dataclass(frozen=True)
class Erased:
    deletion_id: str
    contact_id: str
    seconds: float  # request to completed
    targets: dict[str, float]  # target to seconds after the request
    pending: list[str] = field(default_factory=list)  # targets not completed


async def request(rig: Rig, contact_ids: Sequence[str]) -> list[str]:
    """As the compliance API: the pending row, then the event (acks=all)."""
    deletions = ["del_" + secrets.token_hex(16) for _ in contact_ids]
    async with rig.database.connection() as conn:
        await conn.executemany(
            "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status)"
            " VALUES ($1, $2, 'customer_request', 'bench', 'pending')",
            list(zip(deletions, contact_ids, strict=True)),
        )
    topic = rig.names.topic(CONTACT_EVENTS)
    futures = []
    for contact_id, deletion_id in zip(contact_ids, deletions, strict=True):
        event = erasure_event(contact_id, deletion_id, requested_by="bench")
        futures.append(
            await rig.producer.send(
                topic, encode(event), key=contact_id.encode(), headers=kafka_headers(event)
            )
        )
    await asyncio.gather(*futures)
    return deletions


async def completed(rig: Rig, deletions: Sequence[str]) -> int:
    async with rig.database.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM gdpr_deletions WHERE deletion_id = ANY($1::text[])"
                " AND status = 'completed'",
                list(deletions),
            )
        )


async def timings(rig: Rig, deletions: Sequence[str], requested: datetime) -> list[Erased]:
    """Each deletion's time to completed and its targets' (PostgreSQL's clock)."""
    async with rig.database.connection() as conn:
        rows = await conn.fetch(
            "SELECT d.deletion_id, d.contact_id, d.completed_at AS done, t.target,"
            " t.completed_at FROM gdpr_deletions d JOIN gdpr_deletion_targets t"
            " USING (deletion_id) WHERE d.deletion_id = ANY($1::text[])",
            list(deletions),
        )
    found: dict[str, Erased] = {}
    for row in rows:
        done = row["done"]
        seconds = (done - requested).total_seconds() if done else math.nan
        entry = found.setdefault(
            row["deletion_id"], Erased(row["deletion_id"], row["contact_id"], seconds, {})
        )
        if row["completed_at"] is None:
            entry.pending.append(row["target"])
        else:
            entry.targets[row["target"]] = (row["completed_at"] - requested).total_seconds()
    return [found[d] for d in deletions if d in found]


async def erase(
    rig: Rig, contacts: Sequence[int], seconds: float, check: Callable[[], None]
) -> tuple[list[Erased], float, int]:
    """Request them all at once; (each one's times, wall seconds to the last, completed)."""
    ids = [rig.contact_id(c) for c in contacts]
    requested = datetime.now(UTC)
    started = time.perf_counter()
    deletions = await request(rig, ids)
    deadline = started + seconds
    done = 0
    while time.perf_counter() < deadline:
        done = await completed(rig, deletions)
        if done == len(deletions):
            break
        check()
        await asyncio.sleep(POLL_SECONDS if len(deletions) == 1 else 0.2)
    wall = time.perf_counter() - started
    return await timings(rig, deletions, requested), wall, done
