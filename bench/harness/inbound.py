"""Customers' messages as ingest would write them to the inbound topic: normalised events,
and their records, for benchmarks that produce straight to Kafka."""

from __future__ import annotations

import json
import uuid

from bench.harness.customers import Customers
from ingest.normalise.chatwoot import normalise as normalise_chatwoot
from ingest.normalise.whatsapp import normalise as normalise_whatsapp
from ingest.producer import Record, to_records
from ingest.testing import whatsapp_text_body
from schemas.events import Event
from schemas.keys import Pseudonymizer
from tests.sample_questions import QUESTIONS


def chatwoot_event(
    customers: Customers, conversation: int, text: str, keys: Pseudonymizer
) -> Event:
    """A customer's Chatwoot `message_created` in `conversation`, normalised as ingest does."""
    body = json.loads(customers.body(conversation, text))
    normalised = normalise_chatwoot(
        body, keys=keys, correlation_id=uuid.uuid4().hex, delivery_id=None
    )
    (event,) = normalised.events
    return event


def chatwoot_records(
    customers: Customers, count: int, keys: Pseudonymizer, prefix: str
) -> tuple[list[Record], list[int]]:
    """`count` new conversations, one message each (the sample questions in turn): their
    records and the conversations."""
    conversations = customers.conversations(count)
    events = [
        chatwoot_event(customers, conversation, QUESTIONS[n % len(QUESTIONS)], keys)
        for n, conversation in enumerate(conversations)
    ]
    return to_records(events, prefix), conversations


def whatsapp_records(
    count: int, keys: Pseudonymizer, prefix: str
) -> tuple[list[Record], list[str]]:
    """`count` WhatsApp customers (new random phone numbers), one text message each: their
    records and the phone numbers."""
    phones = [f"1555{uuid.uuid4().int % 10**7:07d}" for _ in range(count)]
    records: list[Record] = []
    for n, phone in enumerate(phones):
        raw = whatsapp_text_body(
            wamid=f"wamid.bench-{uuid.uuid4().hex}", phone=phone, text=QUESTIONS[n % len(QUESTIONS)]
        )
        normalised = normalise_whatsapp(
            json.loads(raw), source="whatsapp-cloud", keys=keys, correlation_id=uuid.uuid4().hex
        )
        records.extend(to_records(list(normalised.events), prefix))
    return records, phones
