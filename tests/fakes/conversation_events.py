"""Events of one conversation (cv_1, contact ct_1), built for tests at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.events import (
    ChatwootRoute,
    ConversationStatusChanged,
    ConversationStatusChangedData,
    MessageReceived,
    MessageReceivedData,
    Personal,
    WhatsAppRoute,
)

T0 = 1_764_000_000.0


WHEN = datetime.fromtimestamp(T0, tz=UTC)
CHATWOOT = ChatwootRoute(account_id=1, conversation_id=7)
WHATSAPP = WhatsAppRoute(phone_number_id="100")


def message(n: int, text: str = "hello?", chatwoot: bool = True) -> MessageReceived:
    return MessageReceived(
        id=f"m{n}",
        source="chatwoot" if chatwoot else "whatsapp-cloud",
        time=WHEN,
        subject="cv_1",
        correlation_id="c",
        data=MessageReceivedData(
            channel="chatwoot" if chatwoot else "whatsapp",
            contact_id="ct_1",
            route=CHATWOOT if chatwoot else WHATSAPP,
            provider_message_id=str(n),
            message_type="text",
            personal=Personal(text=text),
        ),
    )


def status(
    n: int, value: str, assignee: str | None = None, previous: str | None = None
) -> ConversationStatusChanged:
    return ConversationStatusChanged(
        id=f"s{n}",
        source="chatwoot",
        time=WHEN,
        subject="cv_1",
        correlation_id="c",
        data=ConversationStatusChangedData(
            channel="chatwoot",
            route=CHATWOOT,
            status=value,
            assignee_type=assignee,
            previous_status=previous,
        ),
    )


def chatwoot_message(
    personal: Personal,
    *,
    contact_id: str = "ct_1",
    event_id: str = "cw:1",
    at: datetime = WHEN,
    subject: str = "cv_1",
    correlation_id: str = "c",
    conversation_id: int = 2,
) -> MessageReceived:
    """A text message from Chatwoot that carries this personal data."""
    return MessageReceived(
        id=event_id,
        source="chatwoot",
        time=at,
        subject=subject,
        correlation_id=correlation_id,
        data=MessageReceivedData(
            channel="chatwoot",
            contact_id=contact_id,
            route=ChatwootRoute(account_id=1, conversation_id=conversation_id),
            provider_message_id="1",
            message_type="text",
            personal=personal,
        ),
    )
