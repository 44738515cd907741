"""The rows every target writes: fresh Chatwoot message events over conversations of their
own, each with a log position, and the table rows the sink makes of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from bench.harness.customers import message
from schemas.events import Event
from schemas.keys import Pseudonymizer
from schemas.position import Position
from sinks.postgres.rows import InboundMessage, to_row

CONVERSATIONS = 200  # each target's rows are spread over this many new conversations
TOPIC = "bench-sink.inbound.v1"

T = TypeVar("T")


class Messages:
    """Fresh message events over conversations of their own, with a log position each."""

    def __init__(self, keys: Pseudonymizer) -> None:
        self.keys = keys
        self.next = 10**9 + uuid.uuid4().int % 10**9
        self.offset = 0

    def batch(self, count: int) -> list[tuple[Event, Position]]:
        first, self.next = self.next, self.next + count
        contacts = [first + n for n in range(min(count, CONVERSATIONS))]
        out: list[tuple[Event, Position]] = []
        for n in range(count):
            event = message(self.keys, contacts[n % len(contacts)], first + n, f"Question {n}")
            self.offset += 1
            out.append((event, Position(TOPIC, n % 6, self.offset)))
        return out


def inbound_rows(batch: Sequence[tuple[Event, Position]]) -> list[InboundMessage]:
    return [row for e, p in batch if isinstance(row := to_row(e, p), InboundMessage)]


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
