"""What is sent: distinct signed WhatsApp text messages, the events ingest would write for
them (the raw producer's), and the one body wrk sends over and over."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence

from ingest.normalise.whatsapp import normalise
from ingest.producer import Record, to_records
from ingest.testing import whatsapp_headers, whatsapp_text_body
from schemas.keys import Pseudonymizer

SECRET = "bench-whatsapp-app-secret"
CONTACTS = 1000  # distinct customers: each gets its data key once, before timing

Signed = tuple[bytes, dict[str, str]]


class Messages:
    """Distinct signed text messages: a fresh wamid each, never sent twice in a run."""

    def __init__(self) -> None:
        self._tag = uuid.uuid4().hex[:8]
        self._numbers = itertools.count()

    def take(self, count: int) -> list[Signed]:
        signed: list[Signed] = []
        for n in itertools.islice(self._numbers, count):
            body = whatsapp_text_body(
                wamid=f"wamid.bench-{self._tag}-{n}",
                phone=f"1555{n % CONTACTS:07d}",  # customers spread over partitions
                text=f"Hello, where is my order {n}?",
            )
            signed.append((body, whatsapp_headers(SECRET, body)))
        return signed


def encoded_events(signed: Sequence[Signed], prefix: str, keys: Pseudonymizer) -> list[Record]:
    """The records ingest would write for these bodies: normalised, encoded, routed."""
    records: list[Record] = []
    for body, _ in signed:
        result = normalise(
            json.loads(body), source="whatsapp-cloud", keys=keys, correlation_id=uuid.uuid4().hex
        )
        records.extend(to_records(result.events, prefix))
    return records


def saturation_body() -> Signed:
    """One signed text message of a customer whose key exists (590 bytes, as reported):
    the same event, to the same partition, every time."""
    text = "Hello, I ordered a blue jacket last week and the tracking page for it has not changed "
    body = whatsapp_text_body(
        wamid=f"wamid.bench-{uuid.uuid4().hex[:8]}-wrk",
        phone=f"1555{0:07d}",
        text=text + "since Monday. Where is my parcel now, please?",
    )
    return body, whatsapp_headers(SECRET, body)
