"""What the flow benchmark sends: a burst of encoded inbound records, for the worker and the
ceilings alike, and signed Chatwoot webhooks for the end-to-end open loop."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass

from bench.harness.customers import Customers
from bench.harness.worker import SECRET
from ingest.normalise.chatwoot import normalise
from ingest.producer import Record, to_records
from ingest.testing import chatwoot_headers
from schemas.keys import Pseudonymizer
from tests.sample_questions import QUESTIONS

CONVERSATIONS = 200  # the throughput burst is spread over this many conversations


@dataclass(frozen=True)
class Burst:
    """Encoded inbound records, the event id each one's action answers, and where it goes."""

    records: list[Record]
    ids: list[str]
    conversations: Counter[int]


def burst(customers: Customers, count: int, keys: Pseudonymizer, prefix: str) -> Burst:
    conversations = customers.conversations(min(count, CONVERSATIONS))
    records: list[Record] = []
    ids: list[str] = []
    spread: Counter[int] = Counter()
    for n in range(count):
        conversation = conversations[n % len(conversations)]
        question = QUESTIONS[(n + n // len(conversations)) % len(QUESTIONS)]
        body = json.loads(customers.body(conversation, question))
        events = normalise(body, keys=keys, correlation_id=uuid.uuid4().hex, delivery_id=None)
        (event,) = events.events
        records.extend(to_records([event], prefix))
        ids.append(event.id)
        spread[conversation] += 1
    return Burst(records, ids, spread)


Signed = tuple[int, bytes, dict[str, str]]  # conversation, body, headers


def signed_webhooks(customers: Customers, count: int) -> list[Signed]:
    """One message each in a conversation of its own; signed now (300 s tolerance)."""
    signed: list[Signed] = []
    for n, conversation in enumerate(customers.conversations(count)):
        body = customers.body(conversation, QUESTIONS[n % len(QUESTIONS)])
        signed.append((conversation, body, chatwoot_headers(SECRET, body)))
    return signed
