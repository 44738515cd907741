"""The export archive (GDPR art. 15 and 20): everything held about one contact, as JSON.
Pure.

Built from plain rows, so what goes into an archive is decided and tested without a
database. Times are ISO 8601 in UTC; lists are in time order. Each conversation is the whole
transcript Switchboard holds: the customer's messages (``inbound``) and what the bot sent
them, replies and hand-off notices (``outbound``), in order. What is kept elsewhere is named
in ``held_elsewhere``. The archive names the contact only by its pseudonymous id and by what
the contact's own messages carried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FORMAT = "switchboard.contact-export"
FORMAT_VERSION = 2

# Told in every archive, since a person asking "everything you hold" must learn where the
# rest is.
HELD_ELSEWHERE = (
    "Messages written to you by our agents in our help desk (Chatwoot) are kept by the help "
    "desk, not by this system, and are not in this archive: ask us for them if you want them.",
    "Your chats on WhatsApp are also kept on your own phone by WhatsApp.",
)
_ACTION_KINDS = {"reply.requested": "reply", "handoff.requested": "handoff_notice"}

# Fields of a stored message's ``personal`` that describe the contact, newest wins.
_PROFILE_FIELDS = ("contact_name", "phone", "email", "user_id")


@dataclass(frozen=True)
class Identity:
    kind: str
    external_ref: str | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class Conversation:
    conversation_key: str
    channel: str
    status: str | None
    first_message_at: datetime | None
    last_message_at: datetime | None


@dataclass(frozen=True)
class Message:
    event_id: str
    conversation_key: str
    direction: str
    message_type: str
    sent_at: datetime
    personal: Mapping[str, Any]
    edited_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Action:
    action_id: str
    conversation_key: str
    type: str
    requested_at: datetime
    personal: Mapping[str, Any]
    intent: str | None = None
    reason: str | None = None
    in_reply_to: str | None = None


@dataclass(frozen=True)
class Consent:
    consent_type: str
    granted: bool
    source: str
    reason: str
    occurred_at: datetime
    ip_address: str | None = None


@dataclass(frozen=True)
class Deletion:
    deletion_id: str
    reason: str
    requested_by: str
    status: str
    requested_at: datetime
    completed_at: datetime | None = None


@dataclass(frozen=True)
class Export:
    export_id: str
    status: str
    requested_by: str
    requested_at: datetime
    completed_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ContactRows:
    """Every row held about one contact, as the queries found them."""

    contact_id: str
    identities: Sequence[Identity] = ()
    conversations: Sequence[Conversation] = ()
    messages: Sequence[Message] = ()
    actions: Sequence[Action] = ()
    consents: Sequence[Consent] = ()
    deletions: Sequence[Deletion] = ()
    exports: Sequence[Export] = ()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _profile(rows: ContactRows) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for message in sorted(rows.messages, key=lambda m: m.sent_at):
        for name in _PROFILE_FIELDS:
            if message.personal.get(name):
                latest[name] = message.personal[name]
    return {
        "contact_id": rows.contact_id,
        "name": latest.get("contact_name"),
        "phone": latest.get("phone"),
        "email": latest.get("email"),
        "whatsapp_user_id": latest.get("user_id"),
        "identities": [
            {
                "kind": i.kind,
                "provider_reference": i.external_ref,
                "first_seen_at": _time(i.first_seen_at),
                "last_seen_at": _time(i.last_seen_at),
            }
            for i in sorted(rows.identities, key=lambda i: (i.first_seen_at, i.kind))
        ],
    }


def _message(message: Message) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": message.event_id,
        "direction": message.direction,
        "type": message.message_type,
        "sent_at": _time(message.sent_at),
        "text": message.personal.get("text"),
    }
    if message.personal.get("content"):
        entry["content"] = message.personal["content"]
    if message.edited_at is not None:
        entry["edited_at"] = _time(message.edited_at)
    if message.revoked_at is not None:
        entry["revoked_at"] = _time(message.revoked_at)
    return entry


def _action(action: Action) -> dict[str, Any]:
    return {
        "id": action.action_id,
        "direction": "outbound",
        "type": _ACTION_KINDS.get(action.type, action.type),
        "sent_at": _time(action.requested_at),
        "text": action.personal.get("text") or None,
        "intent": action.intent,
        "reason": action.reason,
    }


def _transcript(messages: Sequence[Message], actions: Sequence[Action]) -> list[dict[str, Any]]:
    """Inbound and outbound in one list, in order: each customer message followed by what
    the bot sent in answer to it (provider times have whole seconds, so a reply and the next
    message can share a second); what answers nothing kept here falls in by time."""
    inbound = sorted(messages, key=lambda m: (m.sent_at, m.event_id))
    known = {m.event_id for m in inbound}
    answers: dict[str, list[Action]] = {}
    loose: list[Action] = []
    for action in sorted(actions, key=lambda a: (a.requested_at, a.action_id)):
        if action.in_reply_to in known:
            answers.setdefault(action.in_reply_to, []).append(action)
        else:
            loose.append(action)
    entries: list[dict[str, Any]] = []
    for message in inbound:
        while loose and loose[0].requested_at < message.sent_at:
            entries.append(_action(loose.pop(0)))
        entries.append(_message(message))
        entries += [_action(a) for a in answers.get(message.event_id, [])]
    return entries + [_action(a) for a in loose]


def _conversations(rows: ContactRows) -> list[dict[str, Any]]:
    known = {c.conversation_key: c for c in rows.conversations}
    keys = set(known) | {m.conversation_key for m in rows.messages}
    keys |= {a.conversation_key for a in rows.actions}
    result = []
    for key in keys:
        conversation = known.get(key)
        messages = [m for m in rows.messages if m.conversation_key == key]
        actions = [a for a in rows.actions if a.conversation_key == key]
        result.append(
            {
                "conversation_key": key,
                "channel": conversation.channel if conversation else None,
                "status": conversation.status if conversation else None,
                "first_message_at": _time(conversation.first_message_at if conversation else None),
                "last_message_at": _time(conversation.last_message_at if conversation else None),
                "messages": _transcript(messages, actions),
            }
        )
    return sorted(result, key=lambda c: (c["first_message_at"] or "", c["conversation_key"]))


def assemble(rows: ContactRows, generated_at: datetime) -> dict[str, Any]:
    """The archive of everything held about ``rows.contact_id``."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": _time(generated_at),
        "contact": _profile(rows),
        "conversations": _conversations(rows),
        "held_elsewhere": list(HELD_ELSEWHERE),
        "consent_history": [
            {
                "consent_type": c.consent_type,
                "granted": c.granted,
                "source": c.source,
                "reason": c.reason,
                "ip_address": c.ip_address,
                "occurred_at": _time(c.occurred_at),
            }
            for c in sorted(rows.consents, key=lambda c: c.occurred_at)
        ],
        "deletion_history": [
            {
                "deletion_id": d.deletion_id,
                "reason": d.reason,
                "requested_by": d.requested_by,
                "status": d.status,
                "requested_at": _time(d.requested_at),
                "completed_at": _time(d.completed_at),
            }
            for d in sorted(rows.deletions, key=lambda d: d.requested_at)
        ],
        "export_history": [
            {
                "export_id": e.export_id,
                "status": e.status,
                "requested_by": e.requested_by,
                "requested_at": _time(e.requested_at),
                "completed_at": _time(e.completed_at),
                "expires_at": _time(e.expires_at),
            }
            for e in sorted(rows.exports, key=lambda e: e.requested_at)
        ],
    }


def encode_archive(archive: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON, readable by a person as well as a program (art. 20: 'commonly used')."""
    return json.dumps(archive, ensure_ascii=False, indent=2).encode()
