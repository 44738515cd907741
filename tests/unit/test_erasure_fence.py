"""Which writes the erasure fence leaves out: what happened at or before the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sinks.postgres.erasure_fence import forgotten

REQUESTED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ERASED = {"ct_erased": REQUESTED}


def test_what_happened_up_to_the_request_is_forgotten() -> None:
    assert forgotten(ERASED, "ct_erased", REQUESTED - timedelta(days=30))
    assert forgotten(ERASED, "ct_erased", REQUESTED)


def test_what_the_contact_does_after_the_request_is_kept() -> None:
    assert not forgotten(ERASED, "ct_erased", REQUESTED + timedelta(microseconds=1))


def test_other_contacts_and_events_without_one_are_kept() -> None:
    assert not forgotten(ERASED, "ct_other", REQUESTED - timedelta(days=1))
    assert not forgotten(ERASED, None, REQUESTED - timedelta(days=1))
