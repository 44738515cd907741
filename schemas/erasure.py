"""An erasure as it is recorded: the request, the deletion and the progress of each target.

Pure records. The worker's erasure driver (streams/erasure/) carries a deletion through its
targets; PostgreSQL (sinks/postgres/deletions.py) keeps them in ``gdpr_deletions`` and
``gdpr_deletion_targets``. Both use these types, so they live below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TargetStatus = Literal["pending", "completed", "failed"]
DeletionStatus = Literal["pending", "in_progress", "completed"]


@dataclass(frozen=True)
class DeletionRequest:
    deletion_id: str
    contact_id: str
    reason: str
    requested_by: str


@dataclass(frozen=True)
class Progress:
    """One target of one deletion, as ``gdpr_deletion_targets`` holds it."""

    target: str
    status: TargetStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class Deletion:
    deletion_id: str
    contact_id: str
    reason: str
    requested_by: str
    requested_at: datetime
    targets: tuple[Progress, ...]
