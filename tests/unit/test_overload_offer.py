"""The overload benchmark's offer (bench/harness/overload/offer.py): its model of the rate limiter
agrees with the limiter, and its bodies are what the verdicts assume."""

from __future__ import annotations

import json
import random

import pytest

from bench.harness.overload.offer import (
    ABUSIVE,
    BIG,
    CHUNKED,
    FLOOD,
    GOOD,
    OVER,
    Messages,
    Plan,
    accepted_when_abusive,
    limit_sized,
    make_offer,
    message_id,
    schedule,
)
from ingest.ratelimit import RateLimiter

LIMIT = 3 * 1024 * 1024


@pytest.mark.parametrize(
    ("per_minute", "rate", "seconds"), [(100, 20, 20), (100, 1, 20), (60, 5, 3)]
)
def test_the_abusive_model_matches_the_rate_limiter(
    per_minute: int, rate: float, seconds: float
) -> None:
    limiter = RateLimiter(per_minute)
    sent = int(rate * seconds)
    accepted = sum(limiter.acquire("client", n / rate) == 0 for n in range(sent))
    assert accepted == pytest.approx(accepted_when_abusive(per_minute, rate, seconds), abs=2)


def test_the_offer_aims_at_the_factor_and_keeps_good_clients_under_the_limit() -> None:
    plan = Plan(seconds=20)
    offer = make_offer(50.0, plan)
    assert offer.expected_accepted == pytest.approx(plan.factor * 50.0, rel=0.02)
    assert offer.good_rate * 60 < plan.limit_per_minute
    assert offer.abusive_rate * 60 > 10 * plan.limit_per_minute


def test_a_limit_sized_body_is_exactly_the_limit_and_carries_one_message() -> None:
    body = limit_sized(LIMIT, "wamid.size", "15550001111")
    assert len(body) == LIMIT
    json.loads(body)
    assert message_id(body) == "wa:wamid.size"


def test_the_schedule_holds_every_kind_in_order_with_distinct_addresses_per_client() -> None:
    plan = Plan(seconds=6, flood=4)
    offer = make_offer(10.0, plan)
    rng = random.Random(1)  # noqa: S311 - a schedule, not a secret
    shots = schedule(offer, plan, LIMIT, Messages(plan.conversations, rng), rng)
    assert [s.due for s in shots] == sorted(s.due for s in shots)
    kinds = {s.kind for s in shots}
    assert kinds == {GOOD, ABUSIVE, BIG, OVER, CHUNKED, FLOOD}
    assert len({s.client for s in shots if s.kind == GOOD}) == offer.good_clients
    assert all(len(s.body) == LIMIT + 1 for s in shots if s.kind == OVER)
    ids = [s.event_id for s in shots if s.event_id]
    assert len(ids) == len(set(ids))  # every message is a new one
