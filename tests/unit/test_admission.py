"""Admission of bodies: the budget charged as bytes arrive, the small bodies' share, the
per-client cap on large bodies, and the pace a body must keep."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.admission import BodyBudget, BodyLimits, BodyPace, Reservation
from ingest.errors import Busy, TooManyBodies
from switchboard.settings import Settings

LIMITS = BodyLimits(budget_bytes=1000, small_share=0.25, small_body_bytes=100, large_per_client=2)


def test_bytes_are_charged_as_they_arrive_not_as_declared() -> None:
    """A body that declares 900 bytes and has sent one holds one byte; others still fit."""
    budget = BodyBudget(LIMITS)
    slow = budget.admit("10.0.0.1", declared=900)
    slow.grow(1)
    assert (budget.held, budget.held_large) == (1, 1)
    other = budget.admit("10.0.0.2", declared=700)
    other.grow(700)
    assert budget.held == 701


def test_large_bodies_never_use_the_small_bodies_share() -> None:
    """Large bodies stop at 750 of 1000 bytes; small ones still get the last 250."""
    budget = BodyBudget(LIMITS)
    budget.admit("a", declared=700).grow(700)
    with pytest.raises(Busy, match="large bodies") as refused:
        budget.admit("b", declared=200).grow(51)
    assert refused.value.status_code == 503
    assert refused.value.headers["Retry-After"] == "1"
    for n in range(3):
        budget.admit(f"small-{n}", declared=100).grow(100)
    assert (budget.held, budget.held_large, budget.held_small) == (1000, 700, 300)


def test_a_body_without_a_length_becomes_large_when_it_grows_past_small() -> None:
    """A chunked body is small until it holds more than 100 bytes; then its bytes count as
    large, and it takes one of its client's places for large bodies."""
    budget = BodyBudget(LIMITS)
    chunked = budget.admit("a", declared=None)
    chunked.grow(100)
    assert (chunked.large, budget.held_large, budget.large_bodies("a")) == (False, 0, 0)
    chunked.grow(150)
    assert (chunked.large, budget.held_large, budget.large_bodies("a")) == (True, 150, 1)
    chunked.release()
    assert (budget.held, budget.held_large, budget.large_bodies("a")) == (0, 0, 0)


def test_each_client_may_send_only_so_many_large_bodies_at_once() -> None:
    """The third large body of one client is refused 429 before a byte is read; other
    clients and small bodies are not affected, and a place comes back on release."""
    budget = BodyBudget(LIMITS)
    first, _ = budget.admit("a", declared=500), budget.admit("a", declared=500)
    with pytest.raises(TooManyBodies) as refused:
        budget.admit("a", declared=500)
    assert refused.value.status_code == 429
    assert refused.value.headers["Retry-After"] == "1"
    budget.admit("a", declared=10).grow(10)
    budget.admit("b", declared=500)
    first.release()
    first.release()  # twice is harmless
    budget.admit("a", declared=500)
    assert budget.large_bodies("a") == 2


def test_a_refused_growth_keeps_what_it_held() -> None:
    budget = BodyBudget(LIMITS)
    body = budget.admit("a", declared=None)
    body.grow(50)
    budget.admit("b", declared=None).grow(100)
    budget.admit("c", declared=600).grow(600)
    with pytest.raises(Busy):  # would move its 200 bytes into the large bodies' 750
        body.grow(200)
    assert (body.size, body.large, budget.held, budget.held_large) == (50, False, 750, 600)
    body.grow(20)  # less than held: nothing changes
    assert body.size == 50


def _small_held(reservations: list[Reservation]) -> int:
    return sum(r.size for r in reservations if not r.large)


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 400), st.booleans(), st.booleans()),
        max_size=80,
    )
)
def test_the_budget_keeps_its_rules_whatever_happens(
    steps: list[tuple[int, int, bool, bool]],
) -> None:
    """Whatever bodies arrive, grow and end, in any order: held is the sum of what they
    hold, never over the budget; large bodies never hold more than theirs; no client has
    more large bodies than its cap; a small body is refused only when small bodies alone
    would pass their share; and everything comes back once they end."""
    budget = BodyBudget(LIMITS)
    reservations: list[Reservation] = []
    for which, size, declared_large, release in steps:
        client = f"client-{which % 3}"
        if which == 5 or not reservations:
            with contextlib.suppress(TooManyBodies):
                reservations.append(budget.admit(client, 500 if declared_large else None))
            continue
        reservation = reservations[which % len(reservations)]
        small_before = _small_held(reservations)
        try:
            reservation.grow(size)
        except Busy:
            if not reservation.large and size <= LIMITS.small_body_bytes:
                assert small_before - reservation.size + size > 250
        except TooManyBodies:
            assert size > LIMITS.small_body_bytes
        if release:
            reservation.release()
        assert budget.held == sum(r.size for r in reservations) <= LIMITS.budget_bytes
        assert budget.held_large == sum(r.size for r in reservations if r.large) <= 750
        for name in {r.client for r in reservations}:
            large = sum(1 for r in reservations if r.large and r.client == name)
            assert budget.large_bodies(name) == large <= LIMITS.large_per_client
    for reservation in reservations:
        reservation.release()
    assert (budget.held, budget.held_large, budget.large_bodies("client-0")) == (0, 0, 0)


def test_a_body_is_due_after_the_grace_plus_a_second_per_minimum_rate() -> None:
    pace = BodyPace(total_seconds=10, grace_seconds=2, min_bytes_per_second=1000)
    assert pace.due(0) == 2
    assert pace.due(3000) == 5
    assert pace.due(10**9) == 10
    assert "slower than 1000 bytes/s after the first 2 s" in pace.too_slow(1)
    assert pace.too_slow(10**9) == "request body not received within 10 s"


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_more_bytes_never_make_a_body_due_sooner(fewer: int, more: int) -> None:
    pace = BodyPace()
    assert pace.due(fewer) <= pace.due(fewer + more) <= pace.total_seconds


def test_settings_keep_room_for_a_body_at_the_size_limit() -> None:
    """The budget, less the small bodies' share, must hold a body at the size limit."""
    with pytest.raises(ValueError, match="SWITCHBOARD_BODY_BUDGET_BYTES"):
        Settings(switchboard_max_body_bytes=1000, switchboard_body_budget_bytes=999)
    with pytest.raises(ValueError, match="SWITCHBOARD_SMALL_BODY_SHARE"):
        Settings(
            switchboard_max_body_bytes=3 * 2**20,
            switchboard_body_budget_bytes=4 * 2**20,
            switchboard_small_body_share=0.5,
        )
    # Every body is small: no share to leave for large ones.
    Settings(switchboard_max_body_bytes=1000, switchboard_body_budget_bytes=1000)
