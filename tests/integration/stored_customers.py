"""Customers who wrote once, stored in PostgreSQL as the worker's sink stores them, for the
tests of the compliance API and CLI."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.events import (
    ChatwootRoute,
    MessageReceived,
    MessageReceivedData,
    Personal,
    WhatsAppRoute,
)
from schemas.keys import Pseudonymizer
from schemas.position import Position
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.pool import Database


@dataclass(frozen=True)
class Customer:
    phone: str
    bsuid: str
    contact_id: str


async def whatsapp_customer(database: Database, keys: Pseudonymizer) -> Customer:
    """A customer with a BSUID who wrote once, stored by the sink as the worker stores it."""
    phone = "49151" + "".join(random.choices("0123456789", k=8))  # noqa: S311 - test data
    bsuid = f"DE.{uuid.uuid4().int % 10**20}"
    contact_id = keys.whatsapp_contact(bsuid)
    event = MessageReceived(
        id=f"wa:wamid.{uuid.uuid4().hex}",
        source="whatsapp-cloud",
        time=datetime.now(UTC),
        subject=keys.whatsapp_conversation("100", bsuid),
        correlation_id="seed",
        data=MessageReceivedData(
            channel="whatsapp",
            contact_id=contact_id,
            route=WhatsAppRoute(phone_number_id="100"),
            provider_message_id=uuid.uuid4().hex,
            message_type="text",
            personal=Personal(text="hello", phone=phone, user_id=bsuid, contact_name="Ann"),
        ),
    )
    await ConversationStore(database, keys=keys).write([(event, Position("t", 0, 1))])
    return Customer(phone, bsuid, contact_id)


async def chatwoot_customer(database: Database, keys: Pseudonymizer) -> tuple[str, str]:
    """A Chatwoot contact who wrote once: its 'account/contact' reference and contact id."""
    contact = random.randint(10_000, 10**9)  # noqa: S311 - test data
    contact_id = keys.chatwoot_contact(3, contact)
    event = MessageReceived(
        id=f"chatwoot:3:message:{uuid.uuid4().int % 10**12}",
        source="chatwoot",
        time=datetime.now(UTC),
        subject=keys.chatwoot_conversation(3, contact),
        correlation_id="seed",
        data=MessageReceivedData(
            channel="chatwoot",
            contact_id=contact_id,
            route=ChatwootRoute(account_id=3, conversation_id=contact),
            provider_message_id=uuid.uuid4().hex,
            message_type="text",
            personal=Personal(text="hi", provider_contact_id=f"3/{contact}"),
        ),
    )
    await ConversationStore(database, keys=keys).write([(event, Position("t", 0, 2))])
    return f"3/{contact}", contact_id
