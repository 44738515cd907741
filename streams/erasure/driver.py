"""Carrying a deletion through its targets, and starting one. No I/O of its own: every
store, log and provider is a port, so the order of work is unit-tested with fakes.

``drive(deletion_id)``, from the contacts agent right after a request and from a
timer on every worker (so a crash mid-erasure resumes), in this order:

1. claim the deletion for a while (a lease in PostgreSQL), so two workers never drive the
   same one at once; a deletion claimed by someone else is left alone;
2. run every target that is due (``plan.due``) and record each outcome as it comes;
3. when every target is complete: publish the proof on ``erasures.v1`` and wait for Kafka,
   then mark the deletion completed (a crash in between publishes the proof again: it is
   keyed by contact id on a compacted topic, so that is harmless);
4. release the lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

import structlog

from schemas.erasure import Deletion, DeletionRequest, Progress
from streams.erasure.metrics import ErasureMetrics
from streams.erasure.plan import (
    Failed,
    Outcome,
    after,
    due,
    is_complete,
    plan,
    proof,
)

log = structlog.get_logger(__name__)

LEASE_SECONDS = 120.0


class DeletionStore(Protocol):
    async def record(self, request: DeletionRequest, targets: Sequence[str]) -> None:
        """Create the deletion and its targets unless they exist (idempotent)."""
        ...

    async def claim(self, deletion_id: str, lease_seconds: float) -> Deletion | None:
        """The deletion with its targets, leased to us; None if unknown, complete or leased."""
        ...

    async def save(self, deletion_id: str, progress: Progress) -> None: ...

    async def complete(self, deletion_id: str, at: datetime) -> None:
        """Mark it completed and release it."""
        ...

    async def release(self, deletion_id: str) -> None: ...

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Incomplete, unleased deletions with a target due."""
        ...


class Target(Protocol):
    async def run(self, deletion: Deletion) -> Outcome:
        """Remove this target's copy of the contact; never raises."""
        ...


class Proofs(Protocol):
    async def publish(self, contact_id: str, value: bytes) -> None:
        """Return once Kafka acknowledged the proof record."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Eraser:
    def __init__(
        self,
        store: DeletionStore,
        targets: Mapping[str, Target],
        proofs: Proofs,
        metrics: ErasureMetrics,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        missing = set(plan()) - set(targets)
        if missing:
            raise ValueError(f"no executor for targets {sorted(missing)}")
        self.store = store
        self.targets = targets
        self.proofs = proofs
        self.metrics = metrics
        self.clock = clock

    async def request(self, request: DeletionRequest) -> None:
        """Record a deletion (the same request twice is one deletion)."""
        await self.store.record(request, plan())
        self.metrics.requested.inc()
        log.info(
            "erasure_requested",
            deletion_id=request.deletion_id,
            contact=request.contact_id,
            reason=request.reason,
        )

    async def drive(self, deletion_id: str) -> bool:
        """Advance one deletion as far as it goes now; True once it is complete."""
        deletion = await self.store.claim(deletion_id, LEASE_SECONDS)
        if deletion is None:
            return False
        try:
            return await self._advance(deletion)
        finally:
            await self.store.release(deletion_id)

    async def drive_due(self, limit: int = 100) -> int:
        """Advance every deletion that has a target due; how many completed."""
        completed = 0
        for deletion_id in await self.store.due(self.clock(), limit):
            completed += await self.drive(deletion_id)
        return completed

    async def _advance(self, deletion: Deletion) -> bool:
        progress = {p.target: p for p in deletion.targets}
        tried: set[str] = set()
        # Each target at most once a drive; a target whose dependencies complete during the
        # drive still runs in it.
        while not is_complete(progress.values()):
            names = [n for n in due(tuple(progress.values()), self.clock()) if n not in tried]
            if not names:
                return False
            for name in names:
                tried.add(name)
                outcome = await self._run(name, deletion)
                progress[name] = after(progress[name], outcome, self.clock())
                await self.store.save(deletion.deletion_id, progress[name])
                kind = type(outcome).__name__.lower()
                self.metrics.attempts.labels(name, kind).inc()
                log.info(
                    "erasure_target",
                    deletion_id=deletion.deletion_id,
                    target=name,
                    outcome=kind,
                    attempts=progress[name].attempts,
                    error=outcome.error if isinstance(outcome, Failed) else None,
                )
        erased_at = self.clock()
        await self.proofs.publish(
            deletion.contact_id, proof(deletion.deletion_id, erased_at, deletion.reason)
        )
        await self.store.complete(deletion.deletion_id, erased_at)
        seconds = (erased_at - deletion.requested_at).total_seconds()
        self.metrics.completed.inc()
        self.metrics.duration.observe(max(seconds, 0.0))
        log.info("erasure_completed", deletion_id=deletion.deletion_id, seconds=round(seconds, 3))
        return True

    async def _run(self, name: str, deletion: Deletion) -> Outcome:
        started = time.monotonic()
        try:
            return await self.targets[name].run(deletion)
        except Exception as exc:  # a target that raises is a failed attempt, never a crash
            return Failed(type(exc).__name__)
        finally:
            self.metrics.target_seconds.labels(name).observe(time.monotonic() - started)
