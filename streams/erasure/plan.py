"""What an erasure removes, and the state machine each part of it goes through. Pure.

A deletion is a list of targets, each recorded in ``gdpr_deletion_targets``:

- ``data-key``: the contact's data key is tombstoned (every sealed copy becomes unreadable);
- ``consent``: the consent table entry (changelog tombstone) and ``consent_records``;
- ``conversation-state``: each conversation's state in the ``conversation-state`` table,
  tombstoned by the ``converse`` agent on a ``conversation.erased`` event;
- ``exports``: export archives on disk;
- ``chatwoot``: the contact anonymised in Chatwoot;
- ``postgres``: the contact's rows. It runs last, after the targets that read those rows to
  find their own work (conversations, export paths, Chatwoot identities) have completed.

A target is ``pending`` until it ran, ``completed`` when its copy is gone, ``failed`` when an
attempt failed (it is tried again after a backoff that grows with its attempts, or after
the wait the other side asked for when that is longer: the one retry of a target). A target
that waits on another process (the converse agent) stays ``pending`` and is looked at again
shortly. The deletion is complete only when every target is; then the proof is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from schemas.erasure import DeletionStatus, Progress

DATA_KEY = "data-key"
CONSENT = "consent"
CONVERSATION_STATE = "conversation-state"
EXPORTS = "exports"
CHATWOOT = "chatwoot"
POSTGRES = "postgres"

TARGETS: tuple[str, ...] = (DATA_KEY, CONSENT, CONVERSATION_STATE, EXPORTS, CHATWOOT, POSTGRES)
# A target runs only once these have completed: they need the rows it deletes.
DEPENDS_ON: Mapping[str, tuple[str, ...]] = {POSTGRES: (CONVERSATION_STATE, EXPORTS, CHATWOOT)}

RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 300.0
# How soon a target waiting on another agent is looked at again.
WAIT_POLL_SECONDS = 1.0

# Who asked, when the customer asked in the chat.
CHAT_REQUESTER = "customer-chat"
CHAT_REASON = "customer_request"


# --- what running a target can come to ------------------------------------------------


@dataclass(frozen=True)
class Done:
    """The target's copy is gone (or there was none)."""


@dataclass(frozen=True)
class Failed:
    """The attempt failed; ``error`` names the kind of failure, never personal data, and
    ``after_seconds`` is how long the other side asked us to wait (a ``Retry-After``)."""

    error: str
    after_seconds: float | None = None


@dataclass(frozen=True)
class Waiting:
    """Started, and waiting for another process to finish its part."""

    what: str


Outcome = Done | Failed | Waiting


def plan() -> tuple[str, ...]:
    """Every target of a deletion, in the order they are tried."""
    return TARGETS


def retry_delay(attempts: int) -> float:
    """Seconds before a failed target is tried again: 1, 2, 4, … at most 5 minutes."""
    return float(min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2.0 ** max(attempts - 1, 0)))


def after(progress: Progress, outcome: Outcome, now: datetime) -> Progress:
    """A target's progress once an attempt came to ``outcome``."""
    attempts = progress.attempts + 1
    if isinstance(outcome, Done):
        return replace(
            progress,
            status="completed",
            attempts=attempts,
            next_attempt_at=None,
            last_error=None,
            completed_at=now,
        )
    if isinstance(outcome, Waiting):
        wake = now + timedelta(seconds=WAIT_POLL_SECONDS)
        return replace(progress, status="pending", attempts=attempts, next_attempt_at=wake)
    wait = max(retry_delay(attempts), outcome.after_seconds or 0.0)
    wake = now + timedelta(seconds=wait)
    return replace(
        progress, status="failed", attempts=attempts, next_attempt_at=wake, last_error=outcome.error
    )


def due(targets: Sequence[Progress], now: datetime) -> list[str]:
    """The targets to try now: not completed, their dependencies completed, not backing off."""
    completed = {p.target for p in targets if p.status == "completed"}
    return [
        p.target
        for p in targets
        if p.status != "completed"
        and all(dep in completed for dep in DEPENDS_ON.get(p.target, ()))
        and (p.next_attempt_at is None or p.next_attempt_at <= now)
    ]


def is_complete(targets: Iterable[Progress]) -> bool:
    return all(p.status == "completed" for p in targets)


def status_of(targets: Sequence[Progress]) -> DeletionStatus:
    if is_complete(targets):
        return "completed"
    if any(p.attempts for p in targets):
        return "in_progress"
    return "pending"


def next_wake(targets: Sequence[Progress]) -> datetime | None:
    """When the earliest incomplete target may be tried again (None: right away)."""
    waits = [p.next_attempt_at for p in targets if p.status != "completed"]
    if not waits or any(w is None for w in waits):
        return None
    return min(w for w in waits if w is not None)


def conversations_outcome(expected: Iterable[str], erased: Iterable[str]) -> Outcome:
    """The conversation-state target: done once every conversation's state is erased."""
    missing = set(expected) - set(erased)
    return Done() if not missing else Waiting(f"{len(missing)} conversations")


def chat_deletion_id(event_id: str) -> str:
    """The deletion id for an erasure asked for in the chat: derived from the event, so the
    same request handled twice is one deletion."""
    return "del_" + hashlib.sha256(event_id.encode()).hexdigest()[:24]


def proof(deletion_id: str, erased_at: datetime, reason: str) -> bytes:
    """The record kept on ``erasures.v1`` as proof: no personal data."""
    return json.dumps(
        {"deletion_id": deletion_id, "erased_at": erased_at.isoformat(), "reason": reason}
    ).encode()
