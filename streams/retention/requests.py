"""The events a retention run appends, built from its plan. Pure.

Ids are derived from the run's date and the subject, so a run repeated the same day (after
a crash, say) appends the same ids, which consumers deduplicate.
"""

from __future__ import annotations

from datetime import datetime

from schemas.events import (
    ConversationErased,
    ConversationErasedData,
    ErasureRequested,
    ErasureRequestedData,
)
from streams.retention.policy import ConversationFact

REASON = "retention"
REQUESTED_BY = "retention"


def run_id(now: datetime) -> str:
    """One id a day: what conversation erasures and the run's correlation id carry."""
    return f"retention:{now.date().isoformat()}"


def deletion_id(contact_id: str, now: datetime) -> str:
    return f"{run_id(now)}:{contact_id}"


def erasure_requested(contact_id: str, deletion: str, now: datetime) -> ErasureRequested:
    return ErasureRequested(
        id=f"erasure:{deletion}",
        source="switchboard",
        time=now,
        subject=contact_id,
        correlation_id=deletion,
        data=ErasureRequestedData(
            contact_id=contact_id,
            deletion_id=deletion,
            reason=REASON,
            requested_by=REQUESTED_BY,
        ),
    )


def conversation_erased(conversation: ConversationFact, now: datetime) -> ConversationErased:
    run = run_id(now)
    return ConversationErased(
        id=f"conversation-erased:{run}:{conversation.conversation_key}",
        source="switchboard",
        time=now,
        subject=conversation.conversation_key,
        correlation_id=run,
        data=ConversationErasedData(contact_id=conversation.contact_id, deletion_id=run),
    )
