"""In-memory stand-ins for the erasure driver's ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from schemas.erasure import Deletion, DeletionRequest, Progress
from streams.erasure.plan import Done, Failed, Outcome

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class MemoryDeletions:
    deletions: dict[str, DeletionRequest] = field(default_factory=dict)
    targets: dict[str, dict[str, Progress]] = field(default_factory=dict)
    completed: dict[str, datetime] = field(default_factory=dict)
    leased: set[str] = field(default_factory=set)

    async def record(self, request: DeletionRequest, targets: Sequence[str]) -> None:
        self.deletions.setdefault(request.deletion_id, request)
        found = self.targets.setdefault(request.deletion_id, {})
        for target in targets:
            found.setdefault(target, Progress(target))

    async def claim(self, deletion_id: str, lease_seconds: float) -> Deletion | None:
        if deletion_id not in self.deletions or deletion_id in self.completed:
            return None
        if deletion_id in self.leased:
            return None
        self.leased.add(deletion_id)
        request = self.deletions[deletion_id]
        return Deletion(
            deletion_id,
            request.contact_id,
            request.reason,
            request.requested_by,
            T0,
            tuple(self.targets[deletion_id].values()),
        )

    async def save(self, deletion_id: str, progress: Progress) -> None:
        self.targets[deletion_id][progress.target] = replace(progress)

    async def complete(self, deletion_id: str, at: datetime) -> None:
        self.completed[deletion_id] = at

    async def release(self, deletion_id: str) -> None:
        self.leased.discard(deletion_id)

    async def due(self, now: datetime, limit: int) -> list[str]:
        return [
            d
            for d, targets in self.targets.items()
            if d not in self.completed
            and any(
                p.status != "completed" and (p.next_attempt_at is None or p.next_attempt_at <= now)
                for p in targets.values()
            )
        ][:limit]


class Scripted:
    """A target that comes to the given outcomes in turn (the last one repeats)."""

    def __init__(self, *outcomes: Outcome | Exception) -> None:
        self.outcomes = list(outcomes) or [Done()]
        self.runs = 0

    async def run(self, deletion: Deletion) -> Outcome:
        outcome = self.outcomes[min(self.runs, len(self.outcomes) - 1)]
        self.runs += 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class RecordingProofs:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    async def publish(self, contact_id: str, value: bytes) -> None:
        self.published.append((contact_id, value))


__all__ = ["Clock", "Done", "Failed", "MemoryDeletions", "RecordingProofs", "Scripted"]
