"""The budget of body bytes ingest reads at once: reservations, refusals, and the answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ingest.admission import BodyBudget
from ingest.app import build_ingest, create_app
from ingest.body import read_limited
from ingest.errors import Busy, Oversized
from ingest.testing import InMemoryEventLog, whatsapp_headers, whatsapp_text_body
from streams.keys.testing import in_memory_keyring
from switchboard.settings import Settings

SECRET = "whatsapp-secret-for-tests"
LIMIT = 64 * 1024


def test_reservations_share_the_budget_and_give_it_back() -> None:
    budget = BodyBudget(100)
    first, second = budget.reserve(), budget.reserve()
    first.ensure(60)
    second.ensure(40)
    assert budget.held == 100
    with pytest.raises(Busy) as refused:
        budget.reserve().ensure(1)
    assert refused.value.status_code == 503
    assert refused.value.headers["Retry-After"] == "1"
    first.release()
    first.release()  # twice is harmless
    assert budget.held == 40
    budget.reserve().ensure(60)
    assert budget.held == 100


def test_a_refused_reservation_keeps_what_it_held() -> None:
    budget = BodyBudget(100)
    reservation = budget.reserve()
    reservation.ensure(30)
    budget.reserve().ensure(60)
    with pytest.raises(Busy):
        reservation.ensure(50)
    assert (reservation.size, budget.held) == (30, 90)
    reservation.ensure(20)  # less than held: nothing changes
    assert (reservation.size, budget.held) == (30, 90)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 200)), max_size=60))
def test_the_budget_never_holds_more_than_its_limit(steps: list[tuple[int, int]]) -> None:
    """Whatever the order of growing and releasing, held is the sum of the reservations and
    never above the limit; releasing everything brings it back to zero."""
    budget = BodyBudget(250)
    reservations = [budget.reserve() for _ in range(4)]
    for which, size in steps:
        with contextlib.suppress(Busy):
            reservations[which].ensure(size)
        if size % 7 == 0:
            reservations[which].release()
        assert budget.held == sum(r.size for r in reservations) <= budget.limit
    for reservation in reservations:
        reservation.release()
    assert budget.held == 0


async def _chunks(sizes: list[int]) -> AsyncIterator[bytes]:
    for size in sizes:
        yield b"x" * size


def test_reading_reserves_each_chunk_before_keeping_it() -> None:
    budget = BodyBudget(1000)
    reservation = budget.reserve()
    body = asyncio.run(read_limited(_chunks([300, 300]), LIMIT, reservation))
    assert len(body) == 600
    assert reservation.size == 600
    third = budget.reserve()
    with pytest.raises(Busy):  # 600 held: the second chunk of 300 does not fit
        asyncio.run(read_limited(_chunks([300, 300]), LIMIT, third))
    assert (third.size, budget.held) == (300, 900)
    with pytest.raises(Oversized):  # the size limit comes first, whatever the budget
        asyncio.run(read_limited(_chunks([LIMIT + 1]), LIMIT, BodyBudget(10).reserve()))


def test_the_budget_must_hold_a_body_at_the_size_limit() -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_BODY_BUDGET_BYTES"):
        Settings(switchboard_max_body_bytes=LIMIT, switchboard_body_budget_bytes=LIMIT - 1)


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(
        whatsapp_app_secret=SECRET,
        rate_limit_per_minute=1000,
        switchboard_max_body_bytes=LIMIT,
        switchboard_body_budget_bytes=2 * LIMIT,
    )
    ingest = build_ingest(settings, InMemoryEventLog(), in_memory_keyring())
    with TestClient(create_app(ingest)) as client:
        yield client


def test_a_body_that_does_not_fit_is_refused_503_unread_and_counted(client: TestClient) -> None:
    """With other bodies holding the budget, a declared body gets 503 with Retry-After; once
    they are answered, the same request is accepted and nothing stays held."""
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    body = whatsapp_text_body(wamid="wamid.budget", phone="15551234567", text="Hello")
    headers = whatsapp_headers(SECRET, body)
    others = ingest.bodies.reserve()
    others.ensure(2 * LIMIT - len(body) + 1)
    refused = client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    others.release()
    accepted = client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert accepted.status_code == 200
    assert ingest.bodies.held == 0
    metrics = client.get("/metrics").text
    assert 'outcome="busy",provider="whatsapp"} 1.0' in metrics


def test_refused_requests_give_their_reservation_back(client: TestClient) -> None:
    """A bad signature, an unparsable body or an oversized chunked one: nothing stays held."""
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    bad = whatsapp_text_body(wamid="wamid.bad", phone="15551234567", text="Hello")
    client.post("/webhooks/whatsapp", content=bad, headers=whatsapp_headers("wrong", bad))
    broken = b'{"object": '
    client.post("/webhooks/whatsapp", content=broken, headers=whatsapp_headers(SECRET, broken))
    chunks = (b"x" * 4096 for _ in range(20))
    oversized = client.post(
        "/webhooks/whatsapp",
        content=chunks,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert oversized.status_code == 413
    assert ingest.bodies.held == 0
