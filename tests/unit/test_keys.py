from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from schemas.keys import Pseudonymizer

KEYS = Pseudonymizer(b"unit-test-pepper-0123456789abcdef")
OTHER_PEPPER = Pseudonymizer(b"another-pepper-fedcba9876543210")
CONTACT_KEY = re.compile(r"^ct_[0-9a-f]{32}$")
CONVERSATION_KEY = re.compile(r"^cv_[0-9a-f]{32}$")

PHONE = "972987654321"
BSUID = "US.13491208655302741918"
PHONE_NUMBER_ID = "106540352242922"

# Long enough that a chance match inside 32 hex digits is out of the question.
identities = st.text(min_size=8, max_size=64)
chatwoot_ids = st.integers(min_value=1, max_value=2**63 - 1)


def test_keys_have_a_fixed_prefix_and_length() -> None:
    """Contact keys are ``ct_`` and conversation keys ``cv_``, each followed by 32 hex digits."""
    assert CONTACT_KEY.match(KEYS.whatsapp_contact(PHONE))
    assert CONTACT_KEY.match(KEYS.chatwoot_contact(3, 1001))
    assert CONVERSATION_KEY.match(KEYS.whatsapp_conversation(PHONE_NUMBER_ID, BSUID))
    assert CONVERSATION_KEY.match(KEYS.chatwoot_conversation(3, 87))


def test_keys_are_stable() -> None:
    """The same identity gives the same key, also from a second instance with the same pepper."""
    again = Pseudonymizer(b"unit-test-pepper-0123456789abcdef")
    assert KEYS.whatsapp_contact(BSUID) == again.whatsapp_contact(BSUID)
    assert KEYS.whatsapp_conversation(PHONE_NUMBER_ID, PHONE) == again.whatsapp_conversation(
        PHONE_NUMBER_ID, PHONE
    )
    assert KEYS.chatwoot_contact(3, 1001) == again.chatwoot_contact(3, 1001)
    assert KEYS.chatwoot_conversation(3, 87) == again.chatwoot_conversation(3, 87)


def test_keys_differ_by_pepper() -> None:
    """Without the server's pepper nobody can recompute a key from a phone number."""
    assert KEYS.whatsapp_contact(PHONE) != OTHER_PEPPER.whatsapp_contact(PHONE)
    assert KEYS.chatwoot_conversation(3, 87) != OTHER_PEPPER.chatwoot_conversation(3, 87)


def test_keys_differ_by_identity() -> None:
    """Different customers and conversations get different keys."""
    assert KEYS.whatsapp_contact(PHONE) != KEYS.whatsapp_contact(BSUID)
    assert KEYS.chatwoot_conversation(3, 87) != KEYS.chatwoot_conversation(3, 88)
    assert KEYS.chatwoot_conversation(3, 87) != KEYS.chatwoot_conversation(4, 87)


def test_parts_do_not_run_into_each_other() -> None:
    """Splitting the same characters differently between the parts gives a different key."""
    assert KEYS.chatwoot_contact(1, 23) != KEYS.chatwoot_contact(12, 3)
    assert KEYS.chatwoot_conversation(1, 23) != KEYS.chatwoot_conversation(12, 3)
    assert KEYS.whatsapp_conversation("10654", "0352242922") != KEYS.whatsapp_conversation(
        "1065403", "52242922"
    )


def test_namespaces_are_separate() -> None:
    """A Chatwoot contact and a Chatwoot conversation with the same ids never share a key."""
    contact = KEYS.chatwoot_contact(3, 87).removeprefix("ct_")
    conversation = KEYS.chatwoot_conversation(3, 87).removeprefix("cv_")
    assert contact != conversation


def test_keys_contain_no_part_of_the_identity() -> None:
    """The phone number, the BSUID and the ids never appear inside a key."""
    keys = [
        KEYS.whatsapp_contact(PHONE),
        KEYS.whatsapp_contact(BSUID),
        KEYS.whatsapp_conversation(PHONE_NUMBER_ID, PHONE),
    ]
    for key in keys:
        for part in (PHONE, BSUID, PHONE_NUMBER_ID, PHONE[-8:], BSUID[3:]):
            assert part not in key


@given(identity=identities, phone_number_id=identities)
def test_any_identity_gives_a_well_formed_key_that_hides_it(
    identity: str, phone_number_id: str
) -> None:
    """Whatever the identity, the key has the fixed shape and does not contain it."""
    contact = KEYS.whatsapp_contact(identity)
    conversation = KEYS.whatsapp_conversation(phone_number_id, identity)
    assert CONTACT_KEY.match(contact)
    assert CONVERSATION_KEY.match(conversation)
    assert identity not in contact
    assert identity not in conversation
    assert contact == KEYS.whatsapp_contact(identity)


@given(account=chatwoot_ids, record=chatwoot_ids)
def test_any_chatwoot_ids_give_well_formed_keys(account: int, record: int) -> None:
    """Chatwoot ids of any size map to keys of the fixed shape, different for each pepper."""
    assert CONTACT_KEY.match(KEYS.chatwoot_contact(account, record))
    assert CONVERSATION_KEY.match(KEYS.chatwoot_conversation(account, record))
    assert KEYS.chatwoot_contact(account, record) != OTHER_PEPPER.chatwoot_contact(account, record)
