"""Events → rows. Pure: what the PostgreSQL sink writes, decided without a database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.events import (
    ConversationStatusChanged,
    DataRequestClosed,
    DataRequestOpened,
    Event,
    HandoffRequested,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    MessageStatusChanged,
    ReplyRequested,
)
from schemas.position import Position


@dataclass(frozen=True)
class InboundMessage:
    conversation: tuple[Any, ...]  # (key, channel, contact_id, route json, sent_at)
    message: tuple[Any, ...]


@dataclass(frozen=True)
class StatusRow:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class ConversationStatusRow:
    values: tuple[Any, ...]
    status: str


@dataclass(frozen=True)
class Edit:
    source: str
    provider_message_id: str
    personal: str | None  # json, or None for a revocation
    at: datetime


@dataclass(frozen=True)
class ActionRow:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class AuditRow:
    """A data request made in the chat, for ``audit_log``: who decided what, no personal
    data (the contact by its pseudonymous id)."""

    values: tuple[Any, ...]


CHAT_ACTOR = "customer-chat"

Row = InboundMessage | StatusRow | ConversationStatusRow | Edit | ActionRow | AuditRow


def to_row(event: Event, position: Position) -> Row | None:
    """The row an event becomes, or None for events this sink does not keep."""
    if isinstance(event, MessageReceived):
        data = event.data
        return InboundMessage(
            conversation=(
                event.subject,
                data.channel,
                data.contact_id,
                data.route.model_dump_json(),
                event.time,
            ),
            message=(
                event.id,
                event.subject,
                data.contact_id,
                "inbound",
                event.source,
                data.provider_message_id,
                data.message_type,
                data.in_reply_to,
                data.personal.model_dump_json(exclude_defaults=True),
                event.time,
                event.correlation_id,
                position.topic,
                position.partition,
                position.offset,
            ),
        )
    if isinstance(event, MessageStatusChanged):
        data_s = event.data
        errors = json.dumps([e.model_dump() for e in data_s.errors])
        return StatusRow(
            (
                event.id,
                event.subject,
                data_s.contact_id,
                data_s.provider_message_id,
                data_s.status,
                errors,
                event.time,
            )
        )
    if isinstance(event, ConversationStatusChanged):
        data_c = event.data
        return ConversationStatusRow(
            (
                event.id,
                event.subject,
                data_c.status,
                data_c.previous_status,
                data_c.assignee_type,
                event.time,
            ),
            status=data_c.status,
        )
    if isinstance(event, MessageEdited):
        personal = event.data.personal.model_dump_json(exclude_defaults=True)
        return Edit(event.source, event.data.original_message_id, personal, event.time)
    if isinstance(event, MessageRevoked):
        return Edit(event.source, event.data.original_message_id, None, event.time)
    if isinstance(event, ReplyRequested | HandoffRequested):
        return _action(event, position)
    if isinstance(event, DataRequestOpened | DataRequestClosed):
        return _audit(event)
    return None


def _audit(event: DataRequestOpened | DataRequestClosed) -> AuditRow:
    detail: dict[str, str] = {
        "conversation_key": event.subject,
        "request_id": event.data.request_id,
    }
    if isinstance(event, DataRequestClosed):
        outcome: str = event.data.decision
        detail["decided_by"] = event.data.in_reply_to
        if event.data.reference is not None:
            detail["reference"] = event.data.reference
    else:
        outcome = "awaiting_confirmation"
        detail["expires_at"] = event.data.expires_at.isoformat()
    return AuditRow(
        (
            event.id,
            event.time,
            CHAT_ACTOR,
            f"chat.{event.data.kind}_request",
            event.data.contact_id,
            outcome,
            json.dumps(detail),
        )
    )


def _action(event: ReplyRequested | HandoffRequested, position: Position) -> ActionRow:
    data = event.data
    reason = event.data.reason if isinstance(event, HandoffRequested) else None
    return ActionRow(
        (
            event.id,
            event.subject,
            data.contact_id,
            event.type,
            data.in_reply_to,
            data.intent,
            reason,
            data.personal.model_dump_json(exclude_defaults=True),
            event.time,
            event.correlation_id,
            position.topic,
            position.partition,
            position.offset,
        )
    )
