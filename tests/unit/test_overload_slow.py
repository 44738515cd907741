"""The overload benchmark's slowloris phase (bench/harness/overload/slow.py): its slow
bodies are the issue's attack plus enough to fill what large bodies may hold, and its
webhooks are small."""

from __future__ import annotations

import random
from collections import Counter

from bench.harness.overload.offer import Messages
from bench.harness.overload.slow import ONE_BYTE, STALLED, TRICKLING, SlowPlan, ordinary, slots
from ingest.admission import BodyLimits
from switchboard.settings import Settings


def test_the_slow_bodies_are_the_issues_attack_and_fill_the_large_bodies_share() -> None:
    """11 one-byte bodies from one client (10 declaring 3 MiB, one 2 MiB); trickling and
    stalled clients each at their cap; the stalled ones take 90% of what large bodies may
    hold, so the trickling ones pass it."""
    settings = Settings()
    plan = SlowPlan()
    found = slots(plan, settings)
    one_byte = [s for s in found if s.kind == ONE_BYTE]
    assert sorted(s.declared for s in one_byte) == [2 * 2**20] + [3 * 2**20] * 10
    assert {s.client for s in one_byte} == {"10.6.0.1"}
    assert all(s.first == b"{" for s in one_byte)
    cap = settings.switchboard_large_bodies_per_client
    per_client = Counter(s.client for s in found if s.kind in (TRICKLING, STALLED))
    assert set(per_client.values()) == {cap}
    assert len(per_client) == plan.trickling + plan.stalling
    limits = BodyLimits(
        settings.switchboard_body_budget_bytes,
        settings.switchboard_small_body_share,
        settings.switchboard_small_body_bytes,
        cap,
    )
    stalled = sum(len(s.first) for s in found if s.kind == STALLED)
    assert 0.85 * limits.large_bytes < stalled <= 0.9 * limits.large_bytes


def test_the_webhooks_under_the_attack_are_small_and_each_from_its_own_client() -> None:
    rng = random.Random(1)  # noqa: S311 - a schedule, not a secret
    shots = ordinary(SlowPlan(seconds=2.0), Messages(10, rng), "run", 9)
    assert len(shots) == 40
    assert len({shot.client for shot in shots}) == 40
    assert all(len(shot.body) < Settings().switchboard_small_body_bytes for shot in shots)
    assert {shot.path for shot in shots} == {"/webhooks/chatwoot", "/webhooks/whatsapp"}
    assert all(shot.event_id for shot in shots)
