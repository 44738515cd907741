"""Chatwoot customers writing, as the worker benchmarks send them."""

from __future__ import annotations

import itertools
import json
import uuid

from ingest.normalise.chatwoot import normalise
from schemas.events import Event
from schemas.keys import Pseudonymizer
from tests.fakes import chatwoot_payloads


class Customers:
    """Chatwoot customers writing: message and conversation ids never used before."""

    def __init__(self) -> None:
        base = 10**9 + uuid.uuid4().int % 10**9
        self._messages = itertools.count(base)
        self._conversations = itertools.count(base)

    def conversations(self, count: int) -> list[int]:
        return list(itertools.islice(self._conversations, count))

    def body(self, conversation: int, text: str) -> bytes:
        body = chatwoot_payloads.incoming_message()
        body["id"] = next(self._messages)
        body["content"] = text
        body["conversation"]["id"] = conversation
        body["sender"]["id"] = conversation  # a customer per conversation
        return json.dumps(body).encode()


def message(keys: Pseudonymizer, contact: int, message_id: int, text: str) -> Event:
    """A customer's Chatwoot message, one conversation per contact (same number)."""
    body = chatwoot_payloads.incoming_message()
    body["id"] = message_id
    body["content"] = text
    body["conversation"]["id"] = contact
    for sender in (body["sender"], body["conversation"]["meta"]["sender"]):
        sender.update({"id": contact, "name": f"Customer {contact}", "phone_number": None})
    (event,) = normalise(body, keys=keys, correlation_id=uuid.uuid4().hex, delivery_id=None).events
    return event
