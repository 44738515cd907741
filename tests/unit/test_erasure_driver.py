"""The erasure driver's order of work, with in-memory deletions, targets and proofs."""

from __future__ import annotations

import json

import pytest

from schemas.erasure import DeletionRequest
from streams.erasure.driver import Eraser
from streams.erasure.metrics import ErasureMetrics
from streams.erasure.plan import POSTGRES, Done, Failed, Waiting, plan
from tests.fakes.erasure import Clock, MemoryDeletions, RecordingProofs, Scripted

REQUEST = DeletionRequest("del_1", "ct_1", "customer_request", "api-key-1")


def _eraser(
    targets: dict[str, Scripted] | None = None,
) -> tuple[Eraser, MemoryDeletions, dict[str, Scripted], RecordingProofs, Clock]:
    scripted = {name: Scripted() for name in plan()} | (targets or {})
    store, proofs, clock = MemoryDeletions(), RecordingProofs(), Clock()
    eraser = Eraser(store, scripted, proofs, ErasureMetrics(), clock=clock)
    return eraser, store, scripted, proofs, clock


async def test_every_target_done_completes_the_deletion_with_a_proof() -> None:
    """All targets run once; the proof is published, then the deletion is completed."""
    eraser, store, targets, proofs, _ = _eraser()
    await eraser.request(REQUEST)
    assert await eraser.drive("del_1")
    assert all(t.runs == 1 for t in targets.values())
    assert all(p.status == "completed" for p in store.targets["del_1"].values())
    (contact, value) = proofs.published[0]
    assert contact == "ct_1"
    assert json.loads(value)["deletion_id"] == "del_1"
    assert "del_1" in store.completed
    assert store.leased == set()


async def test_a_failed_target_is_retried_after_its_backoff() -> None:
    """A failure leaves the deletion incomplete; the timer retries it once it is due."""
    eraser, store, targets, proofs, clock = _eraser(
        {"chatwoot": Scripted(Failed("http_500"), Done())}
    )
    await eraser.request(REQUEST)
    assert not await eraser.drive("del_1")
    assert store.targets["del_1"]["chatwoot"].status == "failed"
    assert targets[POSTGRES].runs == 0  # waits for Chatwoot
    assert proofs.published == []
    assert await eraser.drive_due() == 0  # still backing off
    clock.advance(1.0)
    assert await eraser.drive_due() == 1
    assert targets["chatwoot"].runs == 2
    assert targets["exports"].runs == 1  # completed targets are not run again
    assert len(proofs.published) == 1


async def test_a_target_that_raises_counts_as_failed() -> None:
    """An exception in a target is a failed attempt named by its type, not a crash."""
    eraser, store, _, _, _ = _eraser({"exports": Scripted(PermissionError("x"))})
    await eraser.request(REQUEST)
    assert not await eraser.drive("del_1")
    assert store.targets["del_1"]["exports"].last_error == "PermissionError"


async def test_waiting_targets_are_looked_at_again_shortly() -> None:
    """The conversation-state target waits for the converse agent, then completes."""
    eraser, store, targets, _, clock = _eraser(
        {"conversation-state": Scripted(Waiting("1 conversations"), Done())}
    )
    await eraser.request(REQUEST)
    assert not await eraser.drive("del_1")
    assert store.targets["del_1"]["conversation-state"].status == "pending"
    clock.advance(1.0)
    assert await eraser.drive_due() == 1
    assert targets[POSTGRES].runs == 1


async def test_the_same_request_twice_is_one_deletion() -> None:
    """Recording again adds nothing; a completed deletion is not driven again."""
    eraser, _, targets, proofs, _ = _eraser()
    await eraser.request(REQUEST)
    assert await eraser.drive("del_1")
    await eraser.request(REQUEST)
    assert not await eraser.drive("del_1")
    assert all(t.runs == 1 for t in targets.values())
    assert len(proofs.published) == 1


async def test_a_deletion_leased_elsewhere_is_left_alone() -> None:
    """Another worker driving it: nothing runs here."""
    eraser, store, targets, _, _ = _eraser()
    await eraser.request(REQUEST)
    store.leased.add("del_1")
    assert not await eraser.drive("del_1")
    assert all(t.runs == 0 for t in targets.values())


def test_every_target_needs_an_executor() -> None:
    """Wiring that forgets a target fails at start-up."""
    with pytest.raises(ValueError, match="postgres"):
        Eraser(MemoryDeletions(), {}, RecordingProofs(), ErasureMetrics())
