"""Chatwoot webhook bodies (account webhooks, API-inbox webhooks and agent-bot webhooks).

Every body is one object with a top-level ``event``. Two shapes matter:

* ``message_created``: the top level is the message (``Message#webhook_data``), with the
  conversation nested under ``conversation``. Only a customer's own public message becomes
  an event: the bot's replies, agents' replies and private notes are delivered back to us
  too, and taking them in would make the desk answer itself.
* conversation events (``conversation_status_changed``, ``conversation_updated``, and the
  agent-bot variants ``conversation_resolved`` / ``conversation_opened``): the top level is
  the conversation (``Conversations::EventDataPresenter``), where ``id`` is the per-account
  display id that the REST paths use. The account is ``account.id`` since Chatwoot added it
  to conversation payloads (2026); older versions only carry it inside ``messages[]``.

Event ids are built from Chatwoot's own ids and timestamps, never from the delivery, so the
same message or change delivered to an account webhook and to the agent bot dedupes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from ingest.normalise.lenient import Skip as _Skip
from ingest.normalise.lenient import items as _list
from ingest.normalise.lenient import obj as _obj
from ingest.normalise.lenient import text as _str
from ingest.normalise.result import UNRECOGNISED, Normalised
from schemas.events import (
    ChatwootRoute,
    ConversationStatus,
    ConversationStatusChanged,
    ConversationStatusChangedData,
    Event,
    MessageReceived,
    MessageReceivedData,
    Personal,
)
from schemas.keys import Pseudonymizer

AssigneeType = Literal["user", "team", "agent_bot"]
_STATUSES: dict[str, ConversationStatus] = {
    status: status for status in get_args(ConversationStatus)
}
_NOT_HANDLED = {
    event: f"{event} not handled"
    for event in (
        "contact_created",
        "contact_updated",
        "inbox_created",
        "inbox_updated",
        "conversation_created",
        "conversation_typing_on",
        "conversation_typing_off",
        "webwidget_triggered",
        "message_updated",
    )
}
_MESSAGE_TYPES_IGNORED = {
    "outgoing": "outgoing message",
    "template": "template message",
    "activity": "activity message",
}
_OWNERSHIP_CHANGES = frozenset({"assignee_id", "team_id", "status"})
_PERSONAL_CONTENT_KEYS = ("attachments", "content_attributes", "additional_attributes")
_MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints upstream and downstream
_MAX_ID_DIGITS = 19
_MAX_TIME_LENGTH = 64
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _id(value: object) -> int | None:
    """A Chatwoot record id: a positive integer, or its decimal string."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value) if len(value) <= _MAX_ID_DIGITS else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID:
        return value
    return None


def _time(raw: object) -> datetime | None:
    """A Rails timestamp as it reaches JSON: ISO-8601, ``Time#to_s``, or epoch seconds."""
    try:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            return _from_epoch(raw)
        if not isinstance(raw, str) or not raw or len(raw) > _MAX_TIME_LENGTH:
            return None
        text = raw.strip()
        if text.isascii() and text.isdigit():
            return _from_epoch(int(text))
        return _from_text(text)
    except (ValueError, OverflowError, OSError):
        return None


def _from_epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _from_text(text: str) -> datetime:
    if text.endswith(" UTC"):  # Time#to_s in UTC: "2020-03-03 13:05:57 UTC"
        text = text.removesuffix(" UTC") + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:  # Time#to_s with an offset: "2020-03-03 18:35:57 +0530"
        parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    # Rails always writes an offset; a bare local time can only be meant as UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _stamp(moment: datetime) -> int:
    """Microseconds since the epoch, exact, for use inside an event id."""
    return (moment - _EPOCH) // _MICROSECOND


def _first_time(*candidates: object) -> datetime | None:
    for raw in candidates:
        parsed = _time(raw)
        if parsed is not None:
            return parsed
    return None


def _account_id(payload: Mapping[str, Any]) -> int | None:
    """The account of a conversation payload, from wherever this Chatwoot version put it."""
    candidates = [_obj(payload.get("account")).get("id"), payload.get("account_id")]
    candidates += [_obj(m).get("account_id") for m in _list(payload.get("messages"))]
    for candidate in candidates:
        account_id = _id(candidate)
        if account_id is not None:
            return account_id
    return None


def _envelope(event_id: str, subject: str, time: datetime, correlation_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "source": "chatwoot",
        "time": time,
        "subject": subject,
        "correlation_id": correlation_id,
    }


# --- message_created --------------------------------------------------------------


def _message(
    message: Mapping[str, Any], keys: Pseudonymizer, correlation_id: str, _: str | None
) -> Event:
    private = message.get("private")
    if private is not None and private is not False:
        raise _Skip("private note")
    kind = message.get("message_type")
    if kind != "incoming":
        reason = _MESSAGE_TYPES_IGNORED.get(kind) if isinstance(kind, str) else None
        raise _Skip(reason or "unhandled message type")
    sender = _obj(message.get("sender"))
    if _str(sender, "type") not in (None, "contact"):  # a user's or a bot's webhook_data
        raise _Skip("message not sent by a contact")
    conversation = _obj(message.get("conversation"))
    message_id = _id(message.get("id"))
    account_id = _id(_obj(message.get("account")).get("id")) or _account_id(conversation)
    conversation_id = _id(conversation.get("id"))
    contact = _id(sender.get("id"))
    if message_id is None or account_id is None or conversation_id is None or contact is None:
        raise _Skip("malformed message")
    time = _first_time(message.get("created_at"), conversation.get("timestamp"))
    if time is None:
        raise _Skip("malformed timestamp")
    route = ChatwootRoute(
        account_id=account_id,
        conversation_id=conversation_id,
        inbox_id=_id(_obj(message.get("inbox")).get("id")) or _id(conversation.get("inbox_id")),
    )
    return MessageReceived(
        **_envelope(
            f"chatwoot:{account_id}:message:{message_id}",
            keys.chatwoot_conversation(account_id, conversation_id),
            time,
            correlation_id,
        ),
        data=MessageReceivedData(
            channel="chatwoot",
            contact_id=keys.chatwoot_contact(account_id, contact),
            route=route,
            provider_message_id=str(message_id),
            message_type=_str(message, "content_type") or "text",
            in_reply_to=_in_reply_to(message),
            personal=Personal(
                text=_str(message, "content"),
                contact_name=_str(sender, "name"),
                phone=_str(sender, "phone_number"),
                email=_str(sender, "email"),
                provider_contact_id=f"{account_id}/{contact}",
                content={k: message[k] for k in _PERSONAL_CONTENT_KEYS if k in message},
            ),
        ),
    )


def _in_reply_to(message: Mapping[str, Any]) -> str | None:
    quoted = _obj(message.get("content_attributes")).get("in_reply_to")
    if isinstance(quoted, str):
        return quoted or None
    quoted_id = _id(quoted)
    return str(quoted_id) if quoted_id is not None else None


# --- conversation events ------------------------------------------------------------


def _previous_status(changes: list[Any]) -> ConversationStatus | None:
    """The status ``changed_attributes`` says the conversation changed from, if any."""
    for change in changes:
        previous = _obj(_obj(change).get("status")).get("previous_value")
        if isinstance(previous, str) and previous in _STATUSES:
            return _STATUSES[previous]
    return None


def _assignee_type(meta: Mapping[str, Any]) -> AssigneeType | None:
    assignee = _obj(meta.get("assignee"))
    if assignee:
        is_bot = meta.get("assignee_type") == "AgentBot" or assignee.get("type") == "agent_bot"
        return "agent_bot" if is_bot else "user"
    return "team" if _obj(meta.get("team")) else None


def _conversation(
    payload: Mapping[str, Any], keys: Pseudonymizer, correlation_id: str, delivery_id: str | None
) -> Event:
    changes = _list(payload.get("changed_attributes"))
    if payload.get("event") == "conversation_updated":
        changed = {key for change in changes for key in _obj(change)}
        if not changed & _OWNERSHIP_CHANGES:
            raise _Skip("conversation update without status or assignment change")
    account_id = _account_id(payload)
    display_id = _id(payload.get("id"))
    status = _str(payload, "status")
    if account_id is None or display_id is None or status not in _STATUSES:
        raise _Skip("malformed conversation")
    changed_at = _first_time(payload.get("updated_at"), payload.get("timestamp"))
    if changed_at is not None:
        event_id = (
            f"chatwoot:{account_id}:conversation:{display_id}:status:{status}:{_stamp(changed_at)}"
        )
    elif delivery_id is not None and _DELIVERY_ID.match(delivery_id):
        event_id = f"chatwoot:delivery:{delivery_id}"
    else:
        raise _Skip("conversation change without a timestamp or delivery id")
    time = changed_at or _first_time(payload.get("last_activity_at"), payload.get("created_at"))
    if time is None:
        raise _Skip("malformed timestamp")
    return ConversationStatusChanged(
        **_envelope(
            event_id, keys.chatwoot_conversation(account_id, display_id), time, correlation_id
        ),
        data=ConversationStatusChangedData(
            channel="chatwoot",
            route=ChatwootRoute(
                account_id=account_id,
                conversation_id=display_id,
                inbox_id=_id(payload.get("inbox_id")),
            ),
            status=status,
            previous_status=_previous_status(changes),
            assignee_type=_assignee_type(_obj(payload.get("meta"))),
        ),
    )


_Build = Callable[[Mapping[str, Any], Pseudonymizer, str, str | None], Event]
_HANDLERS: dict[str, _Build] = {
    "message_created": _message,
    "conversation_status_changed": _conversation,
    "conversation_updated": _conversation,
    "conversation_resolved": _conversation,
    "conversation_opened": _conversation,
}


def normalise(
    body: object, *, keys: Pseudonymizer, correlation_id: str, delivery_id: str | None
) -> Normalised:
    """Turn a Chatwoot webhook body into at most one event; never raises on any JSON value."""
    root = _obj(body)
    event = root.get("event")
    if not isinstance(event, str):
        return UNRECOGNISED
    if event in _NOT_HANDLED:
        return Normalised(ignored=(_NOT_HANDLED[event],))
    build = _HANDLERS.get(event)
    if build is None:
        return UNRECOGNISED
    try:
        return Normalised(events=(build(root, keys, correlation_id, delivery_id),))
    except _Skip as skip:
        return Normalised(ignored=(str(skip),))
    except ValueError:  # pydantic rejected a field of an unexpected shape
        return Normalised(ignored=("malformed payload",))
