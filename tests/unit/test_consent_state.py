"""A contact's consent: how events change it, what it allows, and its history row."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.consent.state import (
    ConsentState,
    changed,
    dump,
    ip_address,
    load,
    may_reply,
    may_send_marketing,
    record_row,
)
from tests.fakes.consent_events import T0, consent


def test_nothing_recorded_allows_replies_but_not_marketing() -> None:
    """A contact who writes to us may be answered; marketing needs an explicit grant."""
    state = ConsentState()
    assert may_reply(state)
    assert not may_send_marketing(state)
    assert state.recorded("marketing") is None


def test_a_withdrawal_stops_replies_and_marketing() -> None:
    """Communication withdrawn: no bot replies, and no marketing even if it was granted."""
    state = changed(ConsentState(), consent(1, "marketing", True))
    assert state is not None
    assert may_send_marketing(state)
    state = changed(state, consent(2, "communication", False, at=T0 + timedelta(seconds=1)))
    assert state is not None
    assert not may_reply(state)
    assert not may_send_marketing(state)


def test_marketing_needs_a_grant_and_follows_the_latest_change() -> None:
    """Marketing is allowed after a grant and stops after a later withdrawal."""
    granted = changed(ConsentState(), consent(1, "marketing", True))
    assert granted is not None
    assert may_send_marketing(granted)
    withdrawn = changed(granted, consent(2, "marketing", False, at=T0 + timedelta(minutes=1)))
    assert withdrawn is not None
    assert not may_send_marketing(withdrawn)
    assert withdrawn.grants["marketing"].since == T0 + timedelta(minutes=1)
    assert withdrawn.revision == 2


def test_the_same_event_twice_changes_nothing() -> None:
    """A redelivered event is a no-op."""
    state = changed(ConsentState(), consent(1, "analytics", True))
    assert state is not None
    assert changed(state, consent(1, "analytics", True)) is None


def test_an_older_event_never_overrides_a_newer_one() -> None:
    """Events arriving late lose against what was recorded after them."""
    state = changed(ConsentState(), consent(2, "marketing", False, at=T0))
    assert state is not None
    assert changed(state, consent(1, "marketing", True, at=T0 - timedelta(hours=1))) is None
    other_type = changed(state, consent(3, "analytics", True, at=T0 - timedelta(hours=1)))
    assert other_type is not None
    assert other_type.recorded("analytics") is True


def test_a_state_survives_the_table_round_trip() -> None:
    """What the table stores (JSON) loads back equal; nothing stored is the default."""
    state = changed(ConsentState(), consent(1, "marketing", True, origin="flow"))
    assert state is not None
    assert load(dump(state)) == state
    assert load(None) == ConsentState()


def test_the_history_row_names_who_recorded_the_change() -> None:
    """Provider events are recorded by provider name, others by origin; ip normalised."""
    from_api = record_row(consent(1, "marketing", True, ip=" 2001:DB8::1 "))
    assert from_api == ("c1", "ct_1", "marketing", True, "api", "r", "2001:db8::1", T0)
    from_whatsapp = record_row(
        consent(2, "marketing", False, origin="provider", source="whatsapp-cloud")
    )
    assert from_whatsapp[4] == "whatsapp-cloud"
    assert from_whatsapp[6] is None


@given(st.text())
def test_anything_but_an_address_is_not_stored_as_one(raw: str) -> None:
    """ip_address returns a valid address or None, never raises."""
    result = ip_address(raw)
    assert result is None or ip_address(result) == result
