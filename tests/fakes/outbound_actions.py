"""Reply and hand-off actions for the outbound tests, as the conversation flow emits them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.events import (
    ChatwootRoute,
    HandoffReason,
    HandoffRequested,
    HandoffRequestedData,
    Personal,
    ReplyRequested,
    ReplyRequestedData,
    Route,
    Source,
    WhatsAppRoute,
)
from sinks.outbound.requests import Targets

CHATWOOT_TOKEN = "chatwoot-token-for-tests"
WHATSAPP_TOKEN = "graph-token-for-tests"
DIALOG360_KEY = "d360-key-for-tests"
PHONE = "15550002222"
BSUID = "US.13491208655302741918"
PHONE_NUMBER_ID = "100000000000001"
CHATWOOT_ROUTE = ChatwootRoute(account_id=3, conversation_id=42, inbox_id=2)
WHATSAPP_ROUTE = WhatsAppRoute(phone_number_id=PHONE_NUMBER_ID)
TARGETS = Targets(
    chatwoot_base_url="https://chat.example.com",
    chatwoot_api_token=CHATWOOT_TOKEN,
    whatsapp_api_base_url="https://graph.facebook.com/v23.0",
    whatsapp_access_token=WHATSAPP_TOKEN,
    dialog360_api_base_url="https://waba-v2.360dialog.io",
    dialog360_api_key=DIALOG360_KEY,
)


def _route(source: Source) -> Route:
    return CHATWOOT_ROUTE if source == "chatwoot" else WHATSAPP_ROUTE


def _common(action_id: str) -> dict[str, Any]:
    return {
        "id": action_id,
        "source": "switchboard",
        "time": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "subject": "conversation-key",
        "correlation_id": "correlation-1",
    }


def reply(
    source: Source = "chatwoot",
    text: str | None = "Your order ships tomorrow.",
    *,
    phone: str | None = PHONE,
    user_id: str | None = None,
    action_id: str = "reply:wa:wamid.1",
    route: Route | None = None,
) -> ReplyRequested:
    return ReplyRequested(
        **_common(action_id),
        data=ReplyRequestedData(
            channel="chatwoot" if source == "chatwoot" else "whatsapp",
            source=source,
            contact_id="contact-1",
            route=route or _route(source),
            in_reply_to="wa:wamid.1",
            intent="order_status",
            personal=Personal(text=text, phone=phone, user_id=user_id),
        ),
    )


def handoff(
    source: Source = "chatwoot",
    text: str | None = "A colleague will take over shortly.",
    *,
    reason: HandoffReason = "human_request",
    phone: str | None = PHONE,
    user_id: str | None = None,
    action_id: str = "handoff:wa:wamid.2",
    personal: Personal | None = None,
) -> HandoffRequested:
    return HandoffRequested(
        **_common(action_id),
        data=HandoffRequestedData(
            channel="chatwoot" if source == "chatwoot" else "whatsapp",
            source=source,
            contact_id="contact-1",
            route=_route(source),
            in_reply_to="wa:wamid.2",
            reason=reason,
            personal=personal or Personal(text=text, phone=phone, user_id=user_id),
        ),
    )
