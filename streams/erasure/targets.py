"""The targets of an erasure: each removes one copy of a contact's data and says how it
went (`plan.Outcome`). They reach PostgreSQL, Kafka, the disk and Chatwoot only through the
ports below, so the worker wires the real ones and unit tests pass fakes.

The consent table entry itself is tombstoned by the contacts agent when the erasure event
arrives (a Faust table is written only from the agent that owns the contact's partition);
the ``consent`` target here removes the history rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

import structlog

from schemas.erasure import Deletion
from schemas.events import ConversationErased, ConversationErasedData, Event
from sinks.chatwoot.anonymise import BadReferenceError, parse_ref
from streams.erasure.plan import Done, Failed, Outcome, conversations_outcome

log = structlog.get_logger(__name__)

# A conversation.erased event not acted on within this long is sent again.
RESEND_AFTER = timedelta(seconds=30)


class ContactData(Protocol):
    async def delete_data_key_claim(self, contact_id: str) -> None: ...
    async def delete_consent_records(self, contact_id: str) -> int: ...
    async def track_conversations(self, deletion_id: str, contact_id: str) -> None: ...
    async def conversations_to_announce(
        self, deletion_id: str, sent_before: datetime
    ) -> list[str]: ...
    async def conversations_announced(
        self, deletion_id: str, keys: Sequence[str], at: datetime
    ) -> None: ...
    async def conversation_progress(self, deletion_id: str) -> tuple[list[str], list[str]]: ...
    async def export_paths(self, contact_id: str) -> list[str]: ...
    async def chatwoot_refs(self, contact_id: str) -> list[str]: ...
    async def delete_contact_rows(self, contact_id: str) -> dict[str, int]: ...


class KeyTombstones(Protocol):
    async def tombstone(self, contact_id: str) -> None:
        """Return once Kafka (acks=all) holds a tombstone for the contact's data key."""
        ...


class EventLog(Protocol):
    async def emit(self, events: Sequence[Event]) -> None: ...


class ChatwootAnonymiser(Protocol):
    async def anonymise(self, account_id: int, contact_id: int) -> Literal["anonymised", "gone"]:
        """Raises when Chatwoot could not be reached or refused."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DataKeyTarget:
    def __init__(self, keys: KeyTombstones, data: ContactData) -> None:
        self.keys, self.data = keys, data

    async def run(self, deletion: Deletion) -> Outcome:
        await self.keys.tombstone(deletion.contact_id)
        await self.data.delete_data_key_claim(deletion.contact_id)
        return Done()


class ConsentTarget:
    def __init__(self, data: ContactData) -> None:
        self.data = data

    async def run(self, deletion: Deletion) -> Outcome:
        await self.data.delete_consent_records(deletion.contact_id)
        return Done()


class ConversationStateTarget:
    """Asks the converse agent, through a ``conversation.erased`` event on each of the
    contact's conversations, to drop their state; complete once it reported every one
    erased in PostgreSQL (the agent does that only after the table entry is deleted)."""

    def __init__(
        self, data: ContactData, log_: EventLog, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.data, self.log, self.clock = data, log_, clock

    async def run(self, deletion: Deletion) -> Outcome:
        await self.data.track_conversations(deletion.deletion_id, deletion.contact_id)
        now = self.clock()
        keys = await self.data.conversations_to_announce(deletion.deletion_id, now - RESEND_AFTER)
        if keys:
            await self.log.emit([erased_event(deletion, key, now) for key in keys])
            await self.data.conversations_announced(deletion.deletion_id, keys, now)
        expected, erased = await self.data.conversation_progress(deletion.deletion_id)
        return conversations_outcome(expected, erased)


def erased_event(deletion: Deletion, conversation_key: str, now: datetime) -> ConversationErased:
    return ConversationErased(
        id=f"conversation-erased:{deletion.deletion_id}:{conversation_key}",
        source="switchboard",
        time=now,
        subject=conversation_key,
        correlation_id=deletion.deletion_id,
        data=ConversationErasedData(
            contact_id=deletion.contact_id, deletion_id=deletion.deletion_id
        ),
    )


class ExportsTarget:
    """Deletes the archive files ``gdpr_exports.path`` names, only inside the export folder."""

    def __init__(self, data: ContactData, export_dir: Path) -> None:
        self.data, self.export_dir = data, export_dir

    async def run(self, deletion: Deletion) -> Outcome:
        root = self.export_dir.resolve()
        for raw in await self.data.export_paths(deletion.contact_id):
            path = Path(raw) if Path(raw).is_absolute() else root / raw
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                return Failed("export_path_outside_export_dir")
            resolved.unlink(missing_ok=True)
        return Done()


class ChatwootTarget:
    def __init__(self, data: ContactData, chatwoot: ChatwootAnonymiser) -> None:
        self.data, self.chatwoot = data, chatwoot

    async def run(self, deletion: Deletion) -> Outcome:
        for ref in await self.data.chatwoot_refs(deletion.contact_id):
            try:
                account_id, contact_id = parse_ref(ref)
            except BadReferenceError:
                log.warning("chatwoot_ref_unusable", deletion_id=deletion.deletion_id)
                continue
            try:
                await self.chatwoot.anonymise(account_id, contact_id)
            except Exception as exc:
                reason = getattr(exc, "reason", type(exc).__name__)
                return Failed(reason, getattr(exc, "after_seconds", None))
        return Done()


class PostgresTarget:
    def __init__(self, data: ContactData) -> None:
        self.data = data

    async def run(self, deletion: Deletion) -> Outcome:
        counts = await self.data.delete_contact_rows(deletion.contact_id)
        log.info("erasure_rows_deleted", deletion_id=deletion.deletion_id, **counts)
        return Done()
