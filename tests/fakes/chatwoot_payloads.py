"""Chatwoot webhook bodies, built with the field sets Chatwoot's own serialisers produce.

``Message#webhook_data`` for ``message_*`` events, ``Conversations::EventDataPresenter``
(plus ``account``) for ``conversation_*`` events, ``Contact#webhook_data`` for contacts; the
listener merges ``event`` and, for updates, ``changed_attributes``. Every builder returns a
fresh dict, so a test may change what it gets.
"""

from __future__ import annotations

from typing import Any

ACCOUNT_ID = 3
INBOX_ID = 12
CONVERSATION_DISPLAY_ID = 87
CONTACT_ID = 1001
MESSAGE_ID = 4512
AGENT_ID = 7
BOT_ID = 2

CONTACT_NAME = "Rosalind Okafor"
CONTACT_PHONE = "+447700900123"
CONTACT_EMAIL = "rosalind.okafor@example.org"
MESSAGE_TEXT = "Hi, my parcel 7731 has not arrived"

CREATED_AT = "2026-03-03T13:05:57.000Z"  # ActiveSupport's JSON encoding of a time
CREATED_AT_EPOCH = 1772543157
UPDATED_AT = 1772543190.482913  # EventDataPresenter: updated_at.to_f

ACCOUNT = {"id": ACCOUNT_ID, "name": "Acme Support"}


def contact() -> dict[str, Any]:
    """``Contact#webhook_data``: no ``type`` key."""
    return {
        "id": CONTACT_ID,
        "name": CONTACT_NAME,
        "avatar": "",
        "thumbnail": "",
        "email": CONTACT_EMAIL,
        "phone_number": CONTACT_PHONE,
        "identifier": None,
        "blocked": False,
        "additional_attributes": {},
        "custom_attributes": {},
        "account": dict(ACCOUNT),
    }


def contact_push_data() -> dict[str, Any]:
    """``Contact#push_event_data``, as ``conversation.meta.sender``."""
    return {
        "additional_attributes": {},
        "custom_attributes": {},
        "email": CONTACT_EMAIL,
        "id": CONTACT_ID,
        "identifier": None,
        "name": CONTACT_NAME,
        "phone_number": CONTACT_PHONE,
        "thumbnail": "",
        "blocked": False,
        "type": "contact",
    }


def agent() -> dict[str, Any]:
    """``User#webhook_data``."""
    return {"id": AGENT_ID, "name": "Support Agent", "email": "agent@example.com", "type": "user"}


def agent_bot() -> dict[str, Any]:
    """``AgentBot#webhook_data``."""
    return {"id": BOT_ID, "name": "Switchboard", "type": "agent_bot"}


def _last_message_push_data() -> dict[str, Any]:
    """``Message#push_event_data``: here ``message_type`` is an integer and times are epochs."""
    return {
        "id": MESSAGE_ID,
        "content": MESSAGE_TEXT,
        "account_id": ACCOUNT_ID,
        "inbox_id": INBOX_ID,
        "conversation_id": CONVERSATION_DISPLAY_ID,
        "message_type": 0,
        "created_at": CREATED_AT_EPOCH,
        "updated_at": "2026-03-03T13:05:57.412Z",
        "private": False,
        "status": "sent",
        "source_id": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E",
        "content_type": "text",
        "content_attributes": {},
        "sender_type": "Contact",
        "sender_id": CONTACT_ID,
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": MESSAGE_TEXT,
        "sentiment": {},
        "conversation": {
            "assignee_id": None,
            "unread_count": 1,
            "last_activity_at": CREATED_AT_EPOCH,
            "contact_inbox": {"source_id": "447700900123"},
        },
        "sender": contact_push_data(),
    }


def conversation(status: str = "pending") -> dict[str, Any]:
    """``EventDataPresenter#push_data`` plus ``account``; ``id`` is the display id."""
    return {
        "additional_attributes": {},
        "can_reply": True,
        "channel": "Channel::Whatsapp",
        "contact_inbox": {
            "id": 5531,
            "contact_id": CONTACT_ID,
            "inbox_id": INBOX_ID,
            "source_id": "447700900123",
            "created_at": "2026-03-01T09:12:03.120Z",
            "updated_at": "2026-03-01T09:12:03.120Z",
            "hmac_verified": False,
            "pubsub_token": "tJmYkq2P1rXgF3oZ",
        },
        "id": CONVERSATION_DISPLAY_ID,
        "inbox_id": INBOX_ID,
        "messages": [_last_message_push_data()],
        "labels": [],
        "meta": {
            "sender": contact_push_data(),
            "assignee": None,
            "assignee_type": None,
            "team": None,
            "hmac_verified": False,
        },
        "status": status,
        "custom_attributes": {},
        "snoozed_until": None,
        "unread_count": 1,
        "first_reply_created_at": None,
        "priority": None,
        "waiting_since": CREATED_AT_EPOCH,
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "last_activity_at": CREATED_AT_EPOCH,
        "timestamp": CREATED_AT_EPOCH,
        "created_at": 1772356323,
        "updated_at": UPDATED_AT,
        "account": dict(ACCOUNT),
    }


def _message(message_type: str, sender: dict[str, Any], *, private: bool) -> dict[str, Any]:
    return {
        "event": "message_created",
        "id": MESSAGE_ID,
        "content": MESSAGE_TEXT,
        "content_type": "text",
        "content_attributes": {},
        "additional_attributes": {},
        "message_type": message_type,
        "private": private,
        "source_id": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E",
        "created_at": CREATED_AT,
        "sender": sender,
        "account": dict(ACCOUNT),
        "inbox": {"id": INBOX_ID, "name": "WhatsApp +44"},
        "conversation": conversation(),
    }


def incoming_message() -> dict[str, Any]:
    """A customer's message, as both account webhooks and the agent bot receive it."""
    return _message("incoming", contact(), private=False)


def incoming_with_attachment() -> dict[str, Any]:
    body = incoming_message()
    body["content"] = None
    body["content_type"] = "text"
    body["attachments"] = [
        {
            "id": 918,
            "message_id": MESSAGE_ID,
            "file_type": "image",
            "account_id": ACCOUNT_ID,
            "extension": None,
            "data_url": "https://chatwoot.example.com/rails/active_storage/blobs/redirect/eyJfcmFpbHMi/photo.jpg",
            "thumb_url": "https://chatwoot.example.com/rails/active_storage/representations/redirect/eyJfcmFpbHMi/photo.jpg",
            "file_size": 48213,
            "width": 1024,
            "height": 768,
        }
    ]
    return body


def _sent(
    message_type: str, sender: dict[str, Any], private: bool, n: int, content: str
) -> dict[str, Any]:
    """A message not from the customer, numbered ``n`` after the customer's."""
    body = _message(message_type, sender, private=private)
    body["id"] = MESSAGE_ID + n
    body["content"] = content
    return body


def bot_reply() -> dict[str, Any]:
    """The bot's own reply, echoed back to the bot and to account webhooks."""
    return _sent("outgoing", agent_bot(), False, 1, "Thanks, let me check that for you.")


def agent_reply() -> dict[str, Any]:
    return _sent("outgoing", agent(), False, 2, "I have escalated this.")


def private_note() -> dict[str, Any]:
    """An agent's note to colleagues: outgoing and private, and still delivered."""
    return _sent("outgoing", agent(), True, 3, "Customer sounds upset, handle with care")


def template_message() -> dict[str, Any]:
    return _sent("template", agent(), False, 4, "Hello {{name}}, your order has shipped.")


def conversation_status_changed(previous: str = "pending", current: str = "open") -> dict[str, Any]:
    """A human opened a conversation the bot was handling (account webhook)."""
    body = conversation(status=current)
    body["meta"]["assignee"] = {
        "id": AGENT_ID,
        "name": "Support Agent",
        "available_name": "Support Agent",
        "avatar_url": "",
        "type": "user",
        "availability_status": "online",
        "thumbnail": "",
    }
    body["meta"]["assignee_type"] = "User"
    body["event"] = "conversation_status_changed"
    body["changed_attributes"] = [
        {"status": {"previous_value": previous, "current_value": current}}
    ]
    return body


def conversation_resolved() -> dict[str, Any]:
    """The agent-bot variant: no ``changed_attributes``."""
    body = conversation(status="resolved")
    body["event"] = "conversation_resolved"
    return body


def conversation_updated(changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    body = conversation(status="open")
    body["event"] = "conversation_updated"
    body["changed_attributes"] = [
        {key: {"previous_value": before, "current_value": after}}
        for key, (before, after) in changes.items()
    ]
    return body


def contact_created() -> dict[str, Any]:
    body = contact()
    body["event"] = "contact_created"
    return body
