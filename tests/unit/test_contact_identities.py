"""Provider identities: parsing what callers give, and what the sink records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.compliance.errors import InvalidRequest
from ingest.compliance.identities import parse_contact
from schemas.events import (
    ChatwootRoute,
    MessageReceived,
    MessageReceivedData,
    Personal,
    WhatsAppRoute,
)
from schemas.identities import Identity, IdentityError, identities_of
from schemas.keys import Pseudonymizer
from sinks.postgres.identities import latest

KEYS = Pseudonymizer(b"unit-test-pepper-0123456789abcdef")
PHONE = "4915112345678"
BSUID = "US.13491208655302741918"
AT = datetime(2026, 11, 26, tzinfo=UTC)


def _whatsapp(phone: str | None, user_id: str | None) -> MessageReceived:
    identity = user_id or phone or ""
    return MessageReceived(
        id="wa:wamid.1",
        source="whatsapp-cloud",
        time=AT,
        subject=KEYS.whatsapp_conversation("100", identity),
        correlation_id="c",
        data=MessageReceivedData(
            channel="whatsapp",
            contact_id=KEYS.whatsapp_contact(identity),
            route=WhatsAppRoute(phone_number_id="100"),
            provider_message_id="wamid.1",
            message_type="text",
            personal=Personal(text="hi", phone=phone, user_id=user_id, contact_name="Ann"),
        ),
    )


def _chatwoot() -> MessageReceived:
    return MessageReceived(
        id="chatwoot:3:message:1",
        source="chatwoot",
        time=AT,
        subject=KEYS.chatwoot_conversation(3, 87),
        correlation_id="c",
        data=MessageReceivedData(
            channel="chatwoot",
            contact_id=KEYS.chatwoot_contact(3, 1001),
            route=ChatwootRoute(account_id=3, conversation_id=87),
            provider_message_id="1",
            message_type="text",
            personal=Personal(text="hi", phone="+447700900123", provider_contact_id="3/1001"),
        ),
    )


@pytest.mark.parametrize(
    "written", ["+49 151 12345678", "0049-151-12345678", "4915112345678", "+49 (151) 1234 5678"]
)
def test_phone_numbers_are_one_identity_however_written(written: str) -> None:
    """Spaces, dashes, brackets, '+' and '00' do not make a different identity."""
    ref = parse_contact(f"phone:{written}")
    assert ref.identity == Identity("phone", PHONE)
    assert ref.identity.key(KEYS) == Identity.of("phone", PHONE).key(KEYS)


def test_the_forms_a_contact_can_be_given_in() -> None:
    """ct_ ids pass through; phone, bsuid and chatwoot identities are parsed."""
    contact_id = KEYS.whatsapp_contact(PHONE)
    assert parse_contact(contact_id).contact_id == contact_id
    assert parse_contact(f"bsuid:{BSUID}").identity == Identity("bsuid", BSUID)
    assert parse_contact("chatwoot:3/1001").identity == Identity("chatwoot", "3/1001")
    assert parse_contact("Chatwoot:03/01001").identity == Identity("chatwoot", "3/1001")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "4915112345678",
        "email:ann@example.org",
        "phone:",
        "phone:+49 abc",
        "phone:12345",
        "phone:+1234567890123456",
        "chatwoot:3",
        "chatwoot:0/5",
        "chatwoot:a/b",
        "bsuid:has space",
        "ct_short",
        "x" * 300,
    ],
)
def test_unrecognised_contacts_are_invalid_without_echoing_them(text: str) -> None:
    """400 with the accepted forms; the value (maybe a phone number) is not repeated."""
    with pytest.raises(InvalidRequest) as refused:
        parse_contact(text)
    assert refused.value.status_code == 400
    value = text.partition(":")[2] or text
    if len(value) > 8:
        assert value not in refused.value.detail


@given(st.text(max_size=40))
def test_parsing_never_fails_other_than_invalid(text: str) -> None:
    """Whatever a caller sends, the answer is a reference or a 400."""
    try:
        ref = parse_contact(text)
    except InvalidRequest:
        return
    assert (ref.contact_id is None) != (ref.identity is None)


@given(st.from_regex(r"\+?[1-9][0-9]{5,14}", fullmatch=True))
def test_a_phone_only_contact_is_found_by_its_phone(phone: str) -> None:
    """Without a BSUID the contact id derives from the digits, as the normaliser does."""
    identity = Identity.of("phone", phone)
    assert identity.derived_contact_id(KEYS) == KEYS.whatsapp_contact(phone.lstrip("+"))


def test_identity_keys_depend_on_kind_and_pepper() -> None:
    """The same string as a phone and as a BSUID are different identities; no plaintext."""
    as_phone = Identity.of("phone", PHONE).key(KEYS)
    as_bsuid = Identity.of("bsuid", PHONE).key(KEYS)
    assert as_phone != as_bsuid
    assert PHONE not in as_phone
    assert as_phone != Identity.of("phone", PHONE).key(Pseudonymizer(b"another-pepper"))


def test_whatsapp_message_records_phone_and_bsuid_for_its_contact() -> None:
    """Both identities map to the BSUID-derived contact id."""
    rows = identities_of(_whatsapp(PHONE, BSUID), KEYS)
    assert {r.kind for r in rows} == {"phone", "bsuid"}
    assert {r.contact_id for r in rows} == {KEYS.whatsapp_contact(BSUID)}
    assert {r.identity_hash for r in rows} == {
        Identity.of("phone", PHONE).key(KEYS),
        Identity.of("bsuid", BSUID).key(KEYS),
    }
    assert all(r.external_ref is None and r.seen_at == AT for r in rows)


def test_chatwoot_message_records_its_contact_reference() -> None:
    """Chatwoot: one 'chatwoot' identity, with account/contact as the external reference."""
    (row,) = identities_of(_chatwoot(), KEYS)
    assert row.kind == "chatwoot"
    assert row.external_ref == "3/1001"
    assert row.contact_id == KEYS.chatwoot_contact(3, 1001)
    assert row.contact_id == Identity.of("chatwoot", "3/1001").derived_contact_id(KEYS)


def test_identities_that_are_missing_or_malformed_are_skipped() -> None:
    """A message without a BSUID records only the phone; a garbled phone records nothing."""
    assert [r.kind for r in identities_of(_whatsapp(PHONE, None), KEYS)] == ["phone"]
    assert identities_of(_whatsapp("not-a-phone", None), KEYS) == []


def test_identities_are_deduplicated_to_the_newest_sighting() -> None:
    """One statement may not upsert a row twice: the latest sighting of each is kept."""
    first = identities_of(_whatsapp(PHONE, None), KEYS)[0]
    later = type(first)(first.identity_hash, "phone", "ct_other", None, AT.replace(year=2027))
    assert latest([first, later, first]) == [later]


def test_identity_error_is_a_value_error() -> None:
    """Callers can treat a bad identity as bad input."""
    with pytest.raises(IdentityError):
        Identity.of("bsuid", "")
