"""Which events ask for an export, what they ask for, and what the customer is sent when
they asked in the chat. Pure.

``export.requested`` comes from the compliance API or the CLI, which created the
``gdpr_exports`` row first, or from a request confirmed in the chat (`streams.delivery`),
where no row exists yet and ``reply_to`` names the conversation to send the link to. The
export id of a chat request is derived from its request's event id, so the same request
handled twice is one export, and its link one reply (``export-link:<export id>``, which
the delivery log sends once). ``data.requested`` (written before chat requests needed a
confirmation) asks for nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.events import (
    ChatReplyTo,
    Event,
    ExportRequested,
    HandoffRequested,
    HandoffRequestedData,
    Personal,
    ReplyRequested,
    ReplyRequestedData,
    plain,
)
from streams.flow.texts import export_ready, handoff_text

CHAT_REQUESTER = "customer-chat"


@dataclass(frozen=True)
class ExportRequest:
    export_id: str
    contact_id: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    reply_to: ChatReplyTo | None = None
    # Whom a chat request's link goes to (phone / user id).
    recipient: Personal = field(default_factory=Personal)


def chat_export_id(event_id: str) -> str:
    return "ex_" + hashlib.sha256(event_id.encode()).hexdigest()[:24]


def export_request(event: Event, link_days: int) -> ExportRequest | None:
    """The export an event asks for, or None for every other event."""
    expires = event.time + timedelta(days=link_days)
    if isinstance(event, ExportRequested):
        data = event.data
        return ExportRequest(
            data.export_id,
            data.contact_id,
            data.requested_by,
            event.time,
            expires,
            data.reply_to,
            plain(data.personal),
        )
    return None


def link_reply(
    request: ExportRequest, reply_to: ChatReplyTo, url: str, expires_at: datetime
) -> ReplyRequested:
    """The message that brings a chat request its download link."""
    return ReplyRequested(
        id=f"export-link:{request.export_id}",
        **_envelope(request, reply_to),
        data=ReplyRequestedData(
            **_in_chat(request, reply_to),
            personal=_to(request.recipient, export_ready(url, expires_at)),
        ),
    )


def failure_handoff(request: ExportRequest, reply_to: ChatReplyTo) -> HandoffRequested:
    """A chat request whose archive could not be made: the customer is told, and a person
    takes over."""
    return HandoffRequested(
        id=f"export-failed:{request.export_id}",
        **_envelope(request, reply_to),
        data=HandoffRequestedData(
            **_in_chat(request, reply_to),
            reason="export_failed",
            personal=_to(request.recipient, handoff_text("export_failed")),
        ),
    )


def _envelope(request: ExportRequest, reply_to: ChatReplyTo) -> dict[str, Any]:
    return {
        "source": "switchboard",
        "time": request.requested_at,
        "subject": reply_to.conversation_key,
        "correlation_id": reply_to.in_reply_to,
    }


def _in_chat(request: ExportRequest, reply_to: ChatReplyTo) -> dict[str, Any]:
    """The conversation's side of what is sent there about a chat request."""
    return {
        "channel": reply_to.channel,
        "source": reply_to.source,
        "contact_id": request.contact_id,
        "route": reply_to.route,
        "in_reply_to": reply_to.in_reply_to,
        "intent": "data_request",
    }


def _to(recipient: Personal, text: str) -> Personal:
    return Personal(text=text, phone=recipient.phone, user_id=recipient.user_id)
