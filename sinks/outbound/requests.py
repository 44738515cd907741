"""The HTTP requests that carry out one action, per provider. Pure: nothing is sent here.

Where each request is built:

* Chatwoot reply: ``chatwoot_reply``; Chatwoot hand-off: ``chatwoot_handoff`` (customer
  notice, private note for the agents, ``toggle_status`` to open the conversation).
* WhatsApp Cloud API and 360dialog (same message body, different URL and header):
  ``whatsapp_message``; a hand-off there is only the customer notice, since the direct
  channel has no agent desk (the caller records the hand-off).

``build_requests`` picks by ``data.source``. Every request names its ``step``; the sender
records delivered steps so that a redelivered action skips them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from schemas.events import (
    ChatwootRoute,
    HandoffReason,
    HandoffRequested,
    Personal,
    ReplyRequested,
    WhatsAppRoute,
)

Action = ReplyRequested | HandoffRequested

# Step names, recorded in the delivery log: keep them stable.
REPLY = "reply"
NOTICE = "notice"
NOTE = "note"
TOGGLE_STATUS = "toggle_status"

# What the agents read in the private note: the reason in plain words, nothing personal.
HANDOFF_REASON_TEXT: Mapping[HandoffReason, str] = {
    "complaint": "the customer has a complaint",
    "human_request": "the customer asked to talk to a person",
    "low_confidence": "the bot was not confident enough in its answer",
    "empty_answer": "the bot found no answer",
    "overlong_answer": "the bot's answer was too long to send",
    "model_error": "the language model failed",
    "flow_timeout": "the bot took too long to answer",
    "flow_error": "the bot ran into an error",
    "delivery_refused": "a reply could not be delivered",
    "consent_withdrawn": "the customer withdrew consent",
}


class NotDeliverableError(Exception):
    """The action cannot become a request at all (no text, no recipient, wrong route)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutboundRequest:
    """One HTTP request of an action. Headers hold credentials and the body holds the
    customer's text, so neither appears in ``repr``."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    json: dict[str, Any] = field(repr=False)
    step: str


@dataclass(frozen=True)
class Targets:
    """Where each provider's API is, and the credential it takes."""

    chatwoot_base_url: str
    chatwoot_api_token: str = field(repr=False)
    whatsapp_api_base_url: str
    whatsapp_access_token: str = field(repr=False)
    dialog360_api_base_url: str
    dialog360_api_key: str = field(repr=False)


def build_requests(action: Action, targets: Targets) -> list[OutboundRequest]:
    """The requests that carry out ``action``, in the order they must be sent."""
    data = action.data
    is_reply = isinstance(action, ReplyRequested)
    if data.source == "chatwoot":
        if not isinstance(data.route, ChatwootRoute):
            raise NotDeliverableError("route_mismatch")
        if isinstance(action, ReplyRequested):
            return [chatwoot_reply(targets, data.route, _reply_text(data.personal))]
        return chatwoot_handoff(targets, data.route, data.personal.text, action.data.reason)
    if data.source in ("whatsapp-cloud", "360dialog"):
        if not isinstance(data.route, WhatsAppRoute):
            raise NotDeliverableError("route_mismatch")
        text = _reply_text(data.personal) if is_reply else _notice(data.personal.text)
        if text is None:
            return []
        return [
            whatsapp_message(
                targets,
                data.source,
                data.route,
                data.personal,
                text,
                step=REPLY if is_reply else NOTICE,
            )
        ]
    raise NotDeliverableError("unsupported_source")


# --- Chatwoot (Agent Bot API) -----------------------------------------------------------


def chatwoot_reply(
    targets: Targets, route: ChatwootRoute, text: str, step: str = REPLY
) -> OutboundRequest:
    """A public outgoing message in the conversation."""
    return _chatwoot_message(
        targets, route, {"content": text, "message_type": "outgoing", "private": False}, step
    )


def chatwoot_handoff(
    targets: Targets, route: ChatwootRoute, notice: str | None, reason: HandoffReason
) -> list[OutboundRequest]:
    """Tell the customer (if there is something to tell), brief the agents, open the
    conversation to them."""
    steps = []
    if (text := _notice(notice)) is not None:
        steps.append(chatwoot_reply(targets, route, text, NOTICE))
    note = f"Handed over by the bot: {HANDOFF_REASON_TEXT[reason]}"
    steps.append(
        _chatwoot_message(
            targets, route, {"content": note, "message_type": "outgoing", "private": True}, NOTE
        )
    )
    steps.append(
        OutboundRequest(
            "POST",
            f"{_conversation_url(targets, route)}/toggle_status",
            _chatwoot_headers(targets),
            {"status": "open"},
            TOGGLE_STATUS,
        )
    )
    return steps


def _chatwoot_message(
    targets: Targets, route: ChatwootRoute, body: dict[str, Any], step: str
) -> OutboundRequest:
    url = f"{_conversation_url(targets, route)}/messages"
    return OutboundRequest("POST", url, _chatwoot_headers(targets), body, step)


def _conversation_url(targets: Targets, route: ChatwootRoute) -> str:
    base = targets.chatwoot_base_url.rstrip("/")
    return f"{base}/api/v1/accounts/{route.account_id}/conversations/{route.conversation_id}"


def _chatwoot_headers(targets: Targets) -> dict[str, str]:
    return {"api_access_token": targets.chatwoot_api_token, "Content-Type": "application/json"}


# --- WhatsApp Cloud API, directly or through 360dialog ------------------------------------


def whatsapp_message(
    targets: Targets,
    source: Literal["whatsapp-cloud", "360dialog"],
    route: WhatsAppRoute,
    personal: Personal,
    text: str,
    *,
    step: str,
) -> OutboundRequest:
    """A text message through Meta's Graph API, or through 360dialog's copy of it."""
    body = whatsapp_text_body(personal, text)
    if source == "360dialog":
        url = f"{targets.dialog360_api_base_url.rstrip('/')}/messages"
        headers = {"D360-API-KEY": targets.dialog360_api_key}
    else:
        base = targets.whatsapp_api_base_url.rstrip("/")
        url = f"{base}/{quote(route.phone_number_id, safe='')}/messages"
        headers = {"Authorization": f"Bearer {targets.whatsapp_access_token}"}
    return OutboundRequest("POST", url, {**headers, "Content-Type": "application/json"}, body, step)


def whatsapp_text_body(personal: Personal, text: str) -> dict[str, Any]:
    """The Cloud API body; a recipient known only by business-scoped user id goes in
    ``recipient`` instead of ``to``."""
    if personal.phone:
        address = {"to": personal.phone}
    elif personal.user_id:
        address = {"recipient": personal.user_id}
    else:
        raise NotDeliverableError("no_recipient")
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **address,
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }


# --- answers -----------------------------------------------------------------------------


def provider_message_id(body: object) -> str | None:
    """The id the provider gave what we sent: ``messages[0].id`` from the Graph API and
    360dialog, ``id`` from Chatwoot; None when the answer carries none (toggle_status)."""
    if not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if isinstance(messages, list):
        first = messages[0] if messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        return wamid if isinstance(wamid, str) and wamid else None
    message_id = body.get("id")
    if isinstance(message_id, bool) or not isinstance(message_id, int | str):
        return None
    return str(message_id) or None


def _reply_text(personal: Personal) -> str:
    if (text := _notice(personal.text)) is None:
        raise NotDeliverableError("empty_reply")
    return text


def _notice(text: str | None) -> str | None:
    return text if text and text.strip() else None
