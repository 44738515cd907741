"""The HTTP requests that carry out one action, per provider. Pure: nothing is sent here.

Where each request is built:

* Chatwoot reply: ``chatwoot_reply``; Chatwoot hand-off: ``chatwoot_handoff`` (customer
  notice, private note for the agents, ``toggle_status`` to open the conversation).
* WhatsApp Cloud API and 360dialog (same message body, different URL and header):
  ``whatsapp_message``; a hand-off there is only the customer notice, since the direct
  channel has no agent desk (the caller records the hand-off).

``build_requests`` picks by ``data.source``. Every request names its ``step``; the sender
records delivered steps so that a redelivered action skips them.

A step the sender marked as attempted but not as delivered (the process died in between)
may or may not have reached the provider. Each request says how to settle that:

* Chatwoot messages (reply, notice, note) carry a marker, ``{action_id}:{step}``, in
  ``content_attributes.switchboard_action``; their ``lookup`` lists the conversation's
  messages, and a message with that marker means the step got through;
* ``toggle_status`` is ``idempotent``: opening an open conversation again changes nothing;
* WhatsApp messages have neither: the Cloud API cannot list what was sent, so such a step is
  sent again (at least once).
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
    plain,
)

Action = ReplyRequested | HandoffRequested

# Step names, recorded in the delivery log: keep them stable.
REPLY = "reply"
NOTICE = "notice"
NOTE = "note"
TOGGLE_STATUS = "toggle_status"

# The key in a Chatwoot message's content_attributes that names the action and step it
# carries out; keep it stable, messages already sent carry it. Current Chatwoot stores the
# content_attributes a create request sends (Messages::MessageBuilder#message_params) and
# returns them in the message list; older releases kept only known keys (in_reply_to,
# items), so there the marker is dropped, never found, and a step in doubt is sent again.
MARKER_ATTRIBUTE = "switchboard_action"

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
    "unverified_erasure_request": (
        "the customer asked in the chat for their personal data to be deleted; this channel "
        "cannot confirm who they are, so nothing was deleted: check their identity, then "
        "erase through the compliance API"
    ),
    "unverified_export_request": (
        "the customer asked in the chat for a copy of their personal data; this channel "
        "cannot confirm who they are, so nothing was sent: check their identity, then "
        "export through the compliance API"
    ),
    "export_failed": "the copy of the customer's data they confirmed could not be made",
}


class NotDeliverableError(Exception):
    """The action cannot become a request at all (no text, no recipient, wrong route)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MessageLookup:
    """How to find at the provider the message a step created: ``GET url`` with ``headers``
    lists the conversation's messages (Chatwoot: the latest 20, older pages with
    ``?before=<id>``), and the one whose ``content_attributes`` carry ``marker`` is it."""

    url: str
    headers: Mapping[str, str] = field(repr=False)
    marker: str


@dataclass(frozen=True)
class OutboundRequest:
    """One HTTP request of an action. Headers hold credentials and the body holds the
    customer's text, so neither appears in ``repr``.

    ``lookup`` says how to find out whether an earlier attempt got through; ``idempotent``
    says that sending it twice is harmless. With neither, a step whose earlier attempt is in
    doubt is sent again."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    json: dict[str, Any] = field(repr=False)
    step: str
    lookup: MessageLookup | None = None
    idempotent: bool = False


@dataclass(frozen=True)
class Targets:
    """Where each provider's API is, and the credential it takes."""

    chatwoot_base_url: str
    chatwoot_api_token: str = field(repr=False)
    whatsapp_api_base_url: str
    whatsapp_access_token: str = field(repr=False)
    dialog360_api_base_url: str
    dialog360_api_key: str = field(repr=False)
    # A Chatwoot user's token for listing messages: agent-bot tokens may only create them.
    # None: list with the bot token (which upstream Chatwoot refuses; the stand-in does not).
    chatwoot_admin_token: str | None = field(default=None, repr=False)


def build_requests(action: Action, targets: Targets) -> list[OutboundRequest]:
    """The requests that carry out ``action``, in the order they must be sent."""
    data = action.data
    personal = plain(data.personal)
    is_reply = isinstance(action, ReplyRequested)
    if data.source == "chatwoot":
        if not isinstance(data.route, ChatwootRoute):
            raise NotDeliverableError("route_mismatch")
        if isinstance(action, ReplyRequested):
            reply_text = _reply_text(personal)
            return [chatwoot_reply(targets, data.route, reply_text, action_id=action.id)]
        return chatwoot_handoff(
            targets, data.route, personal.text, action.data.reason, action_id=action.id
        )
    if data.source in ("whatsapp-cloud", "360dialog"):
        if not isinstance(data.route, WhatsAppRoute):
            raise NotDeliverableError("route_mismatch")
        text = _reply_text(personal) if is_reply else _notice(personal.text)
        if text is None:
            return []
        return [
            whatsapp_message(
                targets,
                data.source,
                data.route,
                personal,
                text,
                step=REPLY if is_reply else NOTICE,
            )
        ]
    raise NotDeliverableError("unsupported_source")


# --- Chatwoot (Agent Bot API) -----------------------------------------------------------


def chatwoot_reply(
    targets: Targets, route: ChatwootRoute, text: str, *, action_id: str, step: str = REPLY
) -> OutboundRequest:
    """A public outgoing message in the conversation."""
    return _chatwoot_message(
        targets,
        route,
        {"content": text, "message_type": "outgoing", "private": False},
        action_id=action_id,
        step=step,
    )


def chatwoot_handoff(
    targets: Targets,
    route: ChatwootRoute,
    notice: str | None,
    reason: HandoffReason,
    *,
    action_id: str,
) -> list[OutboundRequest]:
    """Tell the customer (if there is something to tell), brief the agents, open the
    conversation to them."""
    steps = []
    if (text := _notice(notice)) is not None:
        steps.append(chatwoot_reply(targets, route, text, action_id=action_id, step=NOTICE))
    note = f"Handed over by the bot: {HANDOFF_REASON_TEXT[reason]}"
    steps.append(
        _chatwoot_message(
            targets,
            route,
            {"content": note, "message_type": "outgoing", "private": True},
            action_id=action_id,
            step=NOTE,
        )
    )
    steps.append(
        OutboundRequest(
            "POST",
            f"{_conversation_url(targets, route)}/toggle_status",
            _chatwoot_headers(targets),
            {"status": "open"},
            TOGGLE_STATUS,
            idempotent=True,
        )
    )
    return steps


def step_marker(action_id: str, step: str) -> str:
    """What a Chatwoot message carries in ``content_attributes.switchboard_action``."""
    return f"{action_id}:{step}"


def _chatwoot_message(
    targets: Targets, route: ChatwootRoute, body: dict[str, Any], *, action_id: str, step: str
) -> OutboundRequest:
    url = f"{_conversation_url(targets, route)}/messages"
    marker = step_marker(action_id, step)
    body = {**body, "content_attributes": {MARKER_ATTRIBUTE: marker}}
    token = targets.chatwoot_admin_token or targets.chatwoot_api_token
    lookup = MessageLookup(url, {"api_access_token": token}, marker)
    return OutboundRequest("POST", url, _chatwoot_headers(targets), body, step, lookup=lookup)


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


@dataclass(frozen=True)
class MessagePage:
    """One page of Chatwoot's message list, as far as finding a marker needs it.

    ``found`` says whether a message on the page carries the marker, ``found_id`` is its id;
    ``oldest_id`` and ``oldest_created_at`` (unix seconds) describe the page's oldest
    message, for asking for the page before it; ``size`` is how many messages it held.
    """

    found: bool
    size: int
    found_id: str | None = None
    oldest_id: int | None = None
    oldest_created_at: int | None = None


def read_message_page(body: object, marker: str) -> MessagePage | None:
    """Read Chatwoot's ``{"meta": {...}, "payload": [message, ...]}``; None when the answer
    is not that shape."""
    if not isinstance(body, dict) or not isinstance(body.get("payload"), list):
        return None
    found, found_id = False, None
    ids: list[int] = []
    times: list[int] = []
    for message in body["payload"]:
        if not isinstance(message, dict):
            return None
        message_id, created_at = message.get("id"), message.get("created_at")
        if isinstance(message_id, int) and not isinstance(message_id, bool):
            ids.append(message_id)
        if isinstance(created_at, int) and not isinstance(created_at, bool):
            times.append(created_at)
        attributes = message.get("content_attributes")
        if isinstance(attributes, dict) and attributes.get(MARKER_ATTRIBUTE) == marker:
            found, found_id = True, provider_message_id(message)
    return MessagePage(
        found=found,
        size=len(body["payload"]),
        found_id=found_id,
        oldest_id=min(ids, default=None),
        oldest_created_at=min(times, default=None),
    )


def _reply_text(personal: Personal) -> str:
    if (text := _notice(personal.text)) is None:
        raise NotDeliverableError("empty_reply")
    return text


def _notice(text: str | None) -> str | None:
    return text if text and text.strip() else None
