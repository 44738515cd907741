"""What anonymising a Chatwoot contact sends, and the contact references it parses (the calls
against the Chatwoot stand-in run with the integration tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sinks.chatwoot.anonymise import (
    BadReferenceError,
    anonymised,
    attributes_to_remove,
    parse_ref,
)


def test_the_update_body_carries_nothing_personal() -> None:
    """Name, email and phone are replaced; the mark is set."""
    assert anonymised(5) == {
        "name": "Deleted User 5",
        "email": "deleted_5@anonymized.local",
        "phone_number": None,
        "custom_attributes": {"gdpr_deleted": True},
    }
    assert attributes_to_remove(
        {"payload": {"custom_attributes": {"a": 1, "gdpr_deleted": 1}}}
    ) == ["a"]
    assert attributes_to_remove({"payload": None}) == []
    assert attributes_to_remove("nonsense") == []


@given(st.integers(min_value=0), st.integers(min_value=0))
def test_references_round_trip(account: int, contact: int) -> None:
    """``account_id/contact_id`` parses back to its numbers."""
    assert parse_ref(f"{account}/{contact}") == (account, contact)


@pytest.mark.parametrize("ref", ["", "3", "3/", "/4", "a/4", "3/4/5", "-3/4"])
def test_malformed_references_are_refused(ref: str) -> None:
    """Anything but two decimal numbers is refused."""
    with pytest.raises(BadReferenceError):
        parse_ref(ref)
