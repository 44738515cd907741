"""What the overload run offers: who sends, how fast, and the signed bodies they send.

Pure apart from the clock in the Chatwoot signatures: given the measured capacity and a
plan, it lays out every request of the run in advance, so nothing is built while timing.

* well-behaved clients each send at 75% of the per-client limit: never refused;
* abusive clients each send far over it: refused with 429 once their bucket is empty;
* a provider posts bursts of bodies of exactly the size limit (signed, one text message
  plus history that ingest ignores: processed), one byte over it (declared: 413 unread) and
  over it without a declared length (chunked: 413 after the limit);
* once, a flood of limit-sized bodies with bad signatures from many addresses arrives at
  the same moment: what memory ingest holds for bodies it reads at once.

Every client has an address of its own, sent in X-Forwarded-For through a trusted proxy
(the load generator's 127.0.0.1), which is how ingest tells clients apart behind a
load balancer.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ingest.normalise.chatwoot import normalise as chatwoot_events
from ingest.normalise.whatsapp import normalise as whatsapp_events
from ingest.testing import chatwoot_headers, whatsapp_headers, whatsapp_text_body
from schemas.keys import Pseudonymizer
from tests.fakes import chatwoot_payloads
from tests.sample_questions import QUESTIONS

CHATWOOT_SECRET = "bench-overload-chatwoot-secret"
WHATSAPP_SECRET = "bench-overload-whatsapp-secret"
CHATWOOT = "/webhooks/chatwoot"
WHATSAPP = "/webhooks/whatsapp"
GOOD_SHARE = 0.75  # a well-behaved client's rate, as a share of the per-client limit
UPDATES = 1000  # what a body at the size limit holds
CHUNKED_EXTRA = 64 * 1024  # how far past the limit a body without a declared length goes
# Kinds of request, as the report names them.
GOOD, ABUSIVE, BIG, OVER, CHUNKED, FLOOD = (
    "well-behaved",
    "abusive",
    "3 MB, at the limit",
    "3 MB + 1 byte, declared",
    "3 MB + 64 KiB, chunked",
    "3 MB flood, bad signature",
)
KINDS = (GOOD, ABUSIVE, BIG, OVER, CHUNKED, FLOOD)
_ANY_KEY = Pseudonymizer(b"event ids do not depend on the key")


@dataclass(frozen=True)
class Plan:
    seconds: float  # how long the load lasts
    factor: float = 1.75  # what is meant to be accepted, as a multiple of the capacity
    calibration: int = 200  # messages in the capacity burst
    conversations: int = 200  # every message goes to one of these (keys made once)
    limit_per_minute: int = 100  # ingest's RATE_LIMIT_PER_MINUTE for the run (its default)
    abusive: int = 2
    abusive_rate: float = 20.0  # requests per second, each
    burst_every: float = 5.0  # seconds between the provider's bursts of big bodies
    burst: tuple[int, int, int] = (3, 2, 1)  # at the limit, over declared, over chunked
    flood: int = 80  # bodies in the one flood: 240 MiB, several times the body budget


@dataclass(frozen=True)
class Offer:
    """How many clients send what, worked out from the measured capacity."""

    capacity: float  # messages per second the pipeline answers
    good_clients: int
    good_rate: float  # per client
    abusive_clients: int
    abusive_rate: float
    expected_accepted: float  # messages per second, all clients together


@dataclass(frozen=True)
class Shot:
    """One request of the run."""

    due: float  # seconds after the load starts
    kind: str
    client: str  # the address in X-Forwarded-For
    path: str
    body: bytes
    headers: dict[str, str]
    event_id: str | None  # the message it carries, if ingest should accept it
    chunked: bool = False  # sent without Content-Length


def accepted_when_abusive(limit_per_minute: int, rate: float, seconds: float) -> float:
    """Requests a client sending at `rate` gets accepted in `seconds` from a full bucket."""
    refill = limit_per_minute / 60.0
    if rate <= refill:
        return rate * seconds
    empty_at = limit_per_minute / (rate - refill)
    if seconds <= empty_at:
        return rate * seconds
    return rate * empty_at + refill * (seconds - empty_at)


def make_offer(capacity: float, plan: Plan) -> Offer:
    """Enough well-behaved clients that, with what abusive clients and bursts get through,
    about `plan.factor` times the capacity is accepted."""
    good_rate = GOOD_SHARE * plan.limit_per_minute / 60.0
    per_abuser = accepted_when_abusive(plan.limit_per_minute, plan.abusive_rate, plan.seconds)
    abusive = plan.abusive * per_abuser / plan.seconds
    big = plan.burst[0] / plan.burst_every
    wanted = plan.factor * capacity - abusive - big
    good_clients = max(1, round(wanted / good_rate))
    expected = good_clients * good_rate + abusive + big
    return Offer(capacity, good_clients, good_rate, plan.abusive, plan.abusive_rate, expected)


class Messages:
    """Chatwoot customer messages over a fixed set of conversations, ids never used before."""

    def __init__(self, conversations: int, rng: random.Random) -> None:
        base = 10**9 + rng.randrange(10**9)
        self._ids = itertools.count(base)
        self._conversations = [base + n for n in range(conversations)]
        self._turn = itertools.count()

    def next(self) -> tuple[bytes, str]:
        """A signed-later body and the id of the event ingest makes of it."""
        n = next(self._turn)
        conversation = self._conversations[n % len(self._conversations)]
        body = chatwoot_payloads.incoming_message()
        body["id"] = next(self._ids)
        body["content"] = QUESTIONS[(n + n // len(self._conversations)) % len(QUESTIONS)]
        body["conversation"]["id"] = conversation
        body["sender"]["id"] = conversation  # a customer per conversation
        raw = json.dumps(body).encode()
        (event,) = chatwoot_events(body, keys=_ANY_KEY, correlation_id="-", delivery_id=None).events
        return raw, event.id


def chatwoot_shot(messages: Messages, due: float, kind: str, client: str) -> Shot:
    body, event_id = messages.next()
    headers = chatwoot_headers(CHATWOOT_SECRET, body) | {"X-Forwarded-For": client}
    return Shot(due, kind, client, CHATWOOT, body, headers, event_id)


def limit_sized(size: int, wamid: str, phone: str) -> bytes:
    """A WhatsApp body of exactly `size` bytes: one text message the worker answers, and a
    history change (coexistence sync; ingest handles only messages and preferences) of up to
    `UPDATES` long earlier messages filling the rest (Meta sends at most 1,000 updates in a
    POST), closed by JSON whitespace."""
    doc: dict[str, Any] = json.loads(
        whatsapp_text_body(wamid=wamid, phone=phone, text=QUESTIONS[0])
    )
    text = "An earlier message, synchronised from the app. " * (size // UPDATES // 48)
    item = {"from": phone, "timestamp": "1764000000", "type": "text", "text": {"body": text}}
    one = len(json.dumps(item)) + 40
    items = [dict(item, id=f"{wamid}.h{n}") for n in range(max(0, (size - 2048) // one))]
    thread = {"id": phone, "messages": items}
    value = {"messaging_product": "whatsapp", "history": [{"threads": [thread]}]}
    doc["entry"][0]["changes"].append({"field": "history", "value": value})
    body = json.dumps(doc, separators=(",", ":")).encode()
    if len(body) > size:
        raise ValueError(f"{size} bytes is too small for a WhatsApp body")
    return body + b" " * (size - len(body))


def whatsapp_signed(body: bytes, client: str) -> dict[str, str]:
    return whatsapp_headers(WHATSAPP_SECRET, body) | {"X-Forwarded-For": client}


def message_id(body: bytes) -> str:
    (event,) = whatsapp_events(
        json.loads(body), source="whatsapp-cloud", keys=_ANY_KEY, correlation_id="-"
    ).events
    return event.id


def bursts(plan: Plan, limit: int, run: str) -> Iterator[Shot]:
    """The provider's bursts: each body at the limit is a new message (its own wamid)."""
    at_limit, declared, chunked = plan.burst
    over = b" " * (limit + 1)  # refused before a byte is read: the content does not matter
    longer = b" " * (limit + CHUNKED_EXTRA)
    for number in range(math.ceil(plan.seconds / plan.burst_every)):
        due = 0.5 + number * plan.burst_every
        client = f"10.3.0.{number % 2 + 1}"  # two provider addresses, well under the limit
        for n in range(at_limit):
            body = limit_sized(limit, f"wamid.overload-{run}-{number}-{n}", f"1555{n:07d}")
            headers = whatsapp_signed(body, client)
            yield Shot(due, BIG, client, WHATSAPP, body, headers, message_id(body))
        for _ in range(declared):
            yield Shot(due, OVER, client, WHATSAPP, over, whatsapp_signed(over, client), None)
        for _ in range(chunked):
            headers = whatsapp_signed(longer, client)
            yield Shot(due, CHUNKED, client, WHATSAPP, longer, headers, None, chunked=True)


def flood(plan: Plan, limit: int) -> Iterator[Shot]:
    """Limit-sized bodies signed with a wrong secret, all due at the same moment."""
    body = limit_sized(limit, "wamid.flood", "15550000000")
    wrong = hmac.new(b"not the secret", body, hashlib.sha256).hexdigest()
    for n in range(plan.flood):
        client = address(4, n)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": f"sha256={wrong}",
            "X-Forwarded-For": client,
        }
        yield Shot(plan.seconds / 2, FLOOD, client, WHATSAPP, body, headers, None)


def address(network: int, n: int) -> str:
    return f"10.{network}.{n // 250}.{n % 250 + 1}"


def schedule(
    offer: Offer, plan: Plan, limit: int, messages: Messages, rng: random.Random
) -> list[Shot]:
    """Every request of the load, in the order they are due."""
    shots: list[Shot] = []
    clients = [(GOOD, address(1, n), offer.good_rate) for n in range(offer.good_clients)]
    clients += [(ABUSIVE, address(2, n), offer.abusive_rate) for n in range(offer.abusive_clients)]
    for kind, client, rate in clients:
        gap = 1.0 / rate
        due = rng.uniform(0, gap)  # phases spread, so clients do not send in step
        while due < plan.seconds:
            shots.append(chatwoot_shot(messages, due, kind, client))
            due += gap
    shots.extend(bursts(plan, limit, f"{rng.randrange(16**8):08x}"))
    shots.extend(flood(plan, limit))
    shots.sort(key=lambda shot: shot.due)
    return shots


def calibration(plan: Plan, messages: Messages) -> list[Shot]:
    """The capacity burst, one request per address (the limiter is not what is measured);
    made first, its messages make each conversation's contact known (its data key)."""
    return [chatwoot_shot(messages, 0.0, GOOD, address(0, n)) for n in range(plan.calibration)]
