"""What a retention run removes, against a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streams.retention.policy import (
    ANALYTICS,
    CONSENT_RECORDS,
    CONTACTS,
    CONVERSATIONS,
    ConsentFact,
    ContactFact,
    ConversationFact,
    plan,
)
from streams.retention.requests import conversation_erased, deletion_id, erasure_requested

NOW = datetime(2030, 6, 15, 2, 0, tzinfo=UTC)
DEFAULTS = {CONTACTS: 90, CONVERSATIONS: 365, CONSENT_RECORDS: 1825, ANALYTICS: 730}
TICK = timedelta(microseconds=1)


def _ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_a_contact_exactly_at_its_policy_is_kept_and_one_instant_older_is_erased() -> None:
    """90 days to the microsecond is kept; a microsecond more is past the policy."""
    contacts = [
        ContactFact("ct_exact", _ago(90)),
        ContactFact("ct_older", _ago(90) - TICK),
        ContactFact("ct_recent", _ago(3)),
    ]
    assert plan(DEFAULTS, NOW, contacts).erase_contacts == ("ct_older",)


def test_a_contact_already_erased_since_its_last_interaction_is_not_erased_again() -> None:
    """An erasure requested after the last interaction covers it; one before does not."""
    contacts = [
        ContactFact("ct_done", _ago(200), erasure_requested_at=_ago(100)),
        ContactFact("ct_pending", _ago(200), _ago(200), erasure_unfinished=True),
        ContactFact("ct_came_back", _ago(150), erasure_requested_at=_ago(300)),
    ]
    assert plan(DEFAULTS, NOW, contacts).erase_contacts == ("ct_came_back",)


def test_conversations_past_their_policy_are_dropped_at_the_boundary() -> None:
    """365 days exactly is kept; older goes; so does nothing younger."""
    conversations = [
        ConversationFact("cv_exact", "ct_1", _ago(365)),
        ConversationFact("cv_old", "ct_1", _ago(365) - TICK),
        ConversationFact("cv_new", "ct_1", _ago(10)),
    ]
    dropped = plan(DEFAULTS, NOW, conversations=conversations).drop_conversations
    assert [c.conversation_key for c in dropped] == ["cv_old"]


def test_conversations_of_contacts_being_erased_are_left_to_the_erasure() -> None:
    """A conversation of a contact erased now, or with an unfinished erasure, is not dropped
    on its own."""
    contacts = [
        ContactFact("ct_gone", _ago(400)),
        ContactFact("ct_erasing", _ago(400), _ago(1), erasure_unfinished=True),
        ContactFact("ct_active", _ago(1)),
    ]
    conversations = [
        ConversationFact("cv_gone", "ct_gone", _ago(400)),
        ConversationFact("cv_erasing", "ct_erasing", _ago(400)),
        ConversationFact("cv_active_old", "ct_active", _ago(400)),
    ]
    decided = plan(DEFAULTS, NOW, contacts, conversations)
    assert decided.erase_contacts == ("ct_gone",)
    assert [c.conversation_key for c in decided.drop_conversations] == ["cv_active_old"]


def test_consent_records_are_kept_five_years() -> None:
    """1825 days exactly is kept, older is deleted."""
    consents = [
        ConsentFact("c_exact", "ct_1", _ago(1825)),
        ConsentFact("c_old", "ct_1", _ago(1825) - TICK),
        ConsentFact("c_new", "ct_1", _ago(1)),
    ]
    assert plan(DEFAULTS, NOW, consents=consents).delete_consent_records == ("c_old",)


def test_a_category_without_a_policy_is_left_alone() -> None:
    """No policy row: nothing of that category is removed, however old."""
    ancient = _ago(10_000)
    decided = plan(
        {ANALYTICS: 730},
        NOW,
        [ContactFact("ct", ancient)],
        [ConversationFact("cv", "ct_other", ancient)],
        [ConsentFact("c", "ct", ancient)],
    )
    assert decided.counts() == {CONTACTS: 0, CONVERSATIONS: 0, CONSENT_RECORDS: 0, ANALYTICS: 0}


def test_edited_policies_apply() -> None:
    """Policies are data: a shorter one removes more."""
    contacts = [ContactFact("ct", _ago(31))]
    assert plan({CONTACTS: 30}, NOW, contacts).erase_contacts == ("ct",)
    assert plan({CONTACTS: 31}, NOW, contacts).erase_contacts == ()


def test_a_naive_clock_is_refused() -> None:
    """Without a time zone the cutoffs would be ambiguous."""
    with pytest.raises(ValueError, match="timezone"):
        plan(DEFAULTS, NOW.replace(tzinfo=None))


def test_the_events_of_a_run_are_stable_for_a_day() -> None:
    """The same day gives the same ids; the erasure is on the contact's key, the
    conversation erasure on the conversation's."""
    later = NOW + timedelta(hours=5)
    erasure = erasure_requested("ct_1", deletion_id("ct_1", NOW), NOW)
    assert erasure.subject == "ct_1"
    assert erasure.data.reason == erasure.data.requested_by == "retention"
    assert erasure.id == erasure_requested("ct_1", deletion_id("ct_1", later), later).id
    erased = conversation_erased(ConversationFact("cv_1", "ct_1", _ago(400)), NOW)
    assert erased.subject == "cv_1"
    assert erased.data.deletion_id == "retention:2030-06-15"
    assert erased.data.contact_id == "ct_1"
