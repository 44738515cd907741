from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.normalise.result import Normalised
from ingest.normalise.whatsapp import normalise
from schemas.events import (
    ConsentChanged,
    ContactIdentityChanged,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    MessageStatusChanged,
    WhatsAppRoute,
    decode,
    encode,
    plain,
)
from schemas.keys import Pseudonymizer
from tests.conftest import Fixtures
from tests.json_strategies import json_values, mutated

KEYS = Pseudonymizer(b"unit-test-pepper-0123456789abcdef")
BSUID = "US.13491208655302741918"
PHONE = "972987654321"
PHONE_NUMBER_ID = "1122334455667"


def _run(body: object, correlation_id: str = "req-1") -> Normalised:
    return normalise(body, source="whatsapp-cloud", keys=KEYS, correlation_id=correlation_id)


# (file, case) → (event class, event id). Every fixture case must be listed here.
EXPECTED: dict[tuple[str, str], tuple[type, str]] = {
    ("callback_button.json", "button"): (MessageReceived, "wa:wamid.xyzxyz"),
    ("callback_button.json", "quick_reply"): (MessageReceived, "wa:wamid.xsidjw"),
    ("callback_button.json", "quick_reply_without_context"): (MessageReceived, "wa:wamid.xsidjx"),
    ("deleted_message.json", "revoke"): (MessageRevoked, "wa:<WHATSAPP_MESSAGE_ID>"),
    ("edited_message.json", "image"): (
        MessageEdited,
        "wa:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
    ),
    **{
        ("message.json", case): (MessageReceived, "wa:wamid.xyzxyz")
        for case in (
            "text",
            "image",
            "media_with_url",
            "video",
            "document",
            "audio",
            "voice",
            "static_sticker",
            "animated_sticker",
            "reaction",
            "unreaction_empty",
            "unreaction_no_emoji",
            "current_location",
            "chosen_location",
            "contacts",
            "order",
            "unsupported",
            "unsupported_with_type",
            "reply",
            "forwarded",
            "forwarded_many_times",
        )
    },
    ("message.json", "interactive_message_with_err"): (MessageReceived, "wa:wamid.wegrchytvwcggt="),
    ("message.json", "referral"): (MessageReceived, "wa:wamid.ID"),
    **{
        ("message_status.json", status): (MessageStatusChanged, f"wa-status:wamid.xyzxyz:{status}")
        for status in ("sent", "delivered", "read", "played", "failed")
    },
    ("message_status.json", "with_tracker"): (MessageStatusChanged, "wa-status:wamid.xyzxyz:sent"),
    ("message_status.json", "group"): (
        MessageStatusChanged,
        "wa-status:<WHATSAPP_MESSAGE_ID>:read",
    ),
    ("system.json", "phone_number_change"): (ContactIdentityChanged, "wa:wamid.xyzxyz=="),
    ("system.json", "identity_change"): (ContactIdentityChanged, "wa:wamid.xyzxyz"),
    ("user_marketing_preferences.json", "resume"): (
        ConsentChanged,
        f"wa-pref:{KEYS.whatsapp_contact('16505551234')}:marketing:resume:1731705721",
    ),
    ("user_marketing_preferences.json", "signup"): (
        ConsentChanged,
        f"wa-pref:{KEYS.whatsapp_contact('16505551234')}:marketing:signup:1731705721",
    ),
}

# Keys whose string values identify or quote a person in the fixtures.
_PERSONAL_KEYS = frozenset(
    {
        "wa_id",
        "from",
        "recipient_id",
        "user_id",
        "from_user_id",
        "recipient_user_id",
        "parent_user_id",
        "recipient_participant_id",
        "recipient_participant_user_id",
        "name",
        "username",
        "formatted_name",
        "first_name",
        "last_name",
        "phone",
        "body",
        "caption",
        "text",
        "title",
        "emoji",
        "address",
    }
)


def _personal_values(value: object, key: str | None = None) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= _personal_values(v, k)
    elif isinstance(value, list):
        for item in value:
            found |= _personal_values(item, key)
    elif isinstance(value, str) and key in _PERSONAL_KEYS and len(value) >= 4:
        found.add(value)
    return found


def test_every_fixture_case_has_an_expectation(whatsapp_fixtures: Fixtures) -> None:
    """The table below covers exactly the fixture cases, so a new fixture needs a decision."""
    assert set(whatsapp_fixtures) == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=lambda c: f"{c[0]}/{c[1]}")
def test_fixture_gives_exactly_the_expected_event(
    whatsapp_fixtures: Fixtures, case: tuple[str, str]
) -> None:
    """Each fixture body becomes one event of the expected type and id, and nothing is dropped."""
    result = _run(whatsapp_fixtures[case])
    cls, event_id = EXPECTED[case]
    assert result.recognised
    assert result.ignored == ()
    assert [(type(e), e.id) for e in result.events] == [(cls, event_id)]
    assert result.events[0].correlation_id == "req-1"
    assert result.events[0].source == "whatsapp-cloud"


def test_text_message(whatsapp_fixtures: Fixtures) -> None:
    """A text message carries its text, sender and route; the contact is keyed by the BSUID."""
    (event,) = _run(whatsapp_fixtures[("message.json", "text")]).events
    assert isinstance(event, MessageReceived)
    assert event.data.message_type == "text"
    assert plain(event.data.personal).text == "Body Text"
    assert plain(event.data.personal).phone == PHONE
    assert plain(event.data.personal).user_id == BSUID
    assert plain(event.data.personal).contact_name == "Test Name"
    assert event.data.route.kind == "whatsapp"
    assert event.data.route.phone_number_id == PHONE_NUMBER_ID
    assert event.data.route.business_account_id == "1234567890987654321"
    assert event.time.timestamp() == 1697043223
    assert event.data.in_reply_to is None


def test_bsuid_not_phone_keys_the_contact(whatsapp_fixtures: Fixtures) -> None:
    """When Meta sends a BSUID the contact and conversation keys come from it, not the phone."""
    for case in [("message.json", "text"), ("callback_button.json", "quick_reply_without_context")]:
        (event,) = _run(whatsapp_fixtures[case]).events
        assert isinstance(event, MessageReceived)
        assert event.data.contact_id == KEYS.whatsapp_contact(BSUID)
        assert event.data.contact_id != KEYS.whatsapp_contact(PHONE)
        assert event.subject == KEYS.whatsapp_conversation(PHONE_NUMBER_ID, BSUID)


def test_without_bsuid_the_phone_keys_the_contact(whatsapp_fixtures: Fixtures) -> None:
    """A sender without any BSUID is keyed by phone number."""
    (event,) = _run(whatsapp_fixtures[("system.json", "identity_change")]).events
    assert isinstance(event, ContactIdentityChanged)
    assert event.data.contact_id == KEYS.whatsapp_contact(PHONE)


def test_username_only_sender_is_found_in_contacts(whatsapp_fixtures: Fixtures) -> None:
    """A user with no phone number in the payload is matched to contacts[] by BSUID."""
    body = copy.deepcopy(whatsapp_fixtures[("message.json", "text")])
    value = body["entry"][0]["changes"][0]["value"]
    del value["contacts"][0]["wa_id"]
    message = value["messages"][0]
    del message["from"]
    message["from_user_id"] = BSUID
    (event,) = _run(body).events
    assert isinstance(event, MessageReceived)
    assert event.data.contact_id == KEYS.whatsapp_contact(BSUID)
    assert plain(event.data.personal).phone is None
    assert plain(event.data.personal).contact_name == "Test Name"


def test_reply_and_button_carry_the_quoted_message(whatsapp_fixtures: Fixtures) -> None:
    """A reply names the message it quotes; a button reply carries the button's title."""
    (reply,) = _run(whatsapp_fixtures[("message.json", "reply")]).events
    assert isinstance(reply, MessageReceived)
    assert reply.data.in_reply_to == "wamid.xyzxyz=="
    assert plain(reply.data.personal).text == "replied text"
    (button,) = _run(whatsapp_fixtures[("callback_button.json", "button")]).events
    assert isinstance(button, MessageReceived)
    assert button.data.message_type == "interactive"
    assert plain(button.data.personal).text == "title"


def test_media_keeps_the_provider_content(whatsapp_fixtures: Fixtures) -> None:
    """A media message keeps Meta's media object (id, link) inside the personal part."""
    (event,) = _run(whatsapp_fixtures[("message.json", "media_with_url")]).events
    assert isinstance(event, MessageReceived)
    assert event.data.message_type == "image"
    assert plain(event.data.personal).content["image"]["id"] == "65463453"
    assert "url" in plain(event.data.personal).content["image"]


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "played", "failed"])
def test_statuses(whatsapp_fixtures: Fixtures, status: str) -> None:
    """A delivery receipt becomes a status change of the business message, keyed by its wamid."""
    (event,) = _run(whatsapp_fixtures[("message_status.json", status)]).events
    assert isinstance(event, MessageStatusChanged)
    assert event.data.status == status
    assert event.data.provider_message_id == "wamid.xyzxyz"
    assert event.data.contact_id == KEYS.whatsapp_contact(BSUID)


def test_failed_status_keeps_the_error(whatsapp_fixtures: Fixtures) -> None:
    """A failed delivery carries Meta's error code and title."""
    (event,) = _run(whatsapp_fixtures[("message_status.json", "failed")]).events
    assert isinstance(event, MessageStatusChanged)
    assert [(e.code, e.title) for e in event.data.errors] == [
        (130472, "User's number is part of an experiment")
    ]


def test_revoke(whatsapp_fixtures: Fixtures) -> None:
    """Deleting a message for everyone names the original message."""
    (event,) = _run(whatsapp_fixtures[("deleted_message.json", "revoke")]).events
    assert isinstance(event, MessageRevoked)
    assert event.data.original_message_id == "<ORIGINAL_WHATSAPP_MESSAGE_ID>"


def test_edit(whatsapp_fixtures: Fixtures) -> None:
    """An edit names the original message and carries the new content."""
    (event,) = _run(whatsapp_fixtures[("edited_message.json", "image")]).events
    assert isinstance(event, MessageEdited)
    assert event.data.original_message_id == (
        "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
    )
    assert event.data.message_type == "image"
    assert plain(event.data.personal).text == "Updated image caption"


def test_number_change(whatsapp_fixtures: Fixtures) -> None:
    """A number change is a contact event keyed by the old identity, naming the new one."""
    (event,) = _run(whatsapp_fixtures[("system.json", "phone_number_change")]).events
    assert isinstance(event, ContactIdentityChanged)
    assert event.data.change == "user_changed_number"
    assert event.subject == KEYS.whatsapp_contact("972987654321")
    assert event.data.new_contact_id == KEYS.whatsapp_contact("972912345678")


def test_security_code_change(whatsapp_fixtures: Fixtures) -> None:
    """A re-install keeps the identity, so there is no new contact id."""
    (event,) = _run(whatsapp_fixtures[("system.json", "identity_change")]).events
    assert isinstance(event, ContactIdentityChanged)
    assert event.data.change == "customer_identity_changed"
    assert event.data.new_contact_id is None


@pytest.mark.parametrize("value", ["resume", "signup"])
def test_marketing_preferences_grant_consent(whatsapp_fixtures: Fixtures, value: str) -> None:
    """Resuming or signing up for marketing messages grants marketing consent."""
    (event,) = _run(whatsapp_fixtures[("user_marketing_preferences.json", value)]).events
    assert isinstance(event, ConsentChanged)
    assert event.data.consent_type == "marketing"
    assert event.data.granted is True
    assert event.data.reason == f"whatsapp:{value}"
    assert event.subject == event.data.contact_id


def test_marketing_stop_withdraws_consent(whatsapp_fixtures: Fixtures) -> None:
    """Stopping marketing messages withdraws marketing consent."""
    body = copy.deepcopy(whatsapp_fixtures[("user_marketing_preferences.json", "resume")])
    body["entry"][0]["changes"][0]["value"]["user_preferences"][0]["value"] = "stop"
    (event,) = _run(body).events
    assert isinstance(event, ConsentChanged)
    assert event.data.granted is False


def test_no_personal_data_in_keys_or_ids(whatsapp_fixtures: Fixtures) -> None:
    """No phone number, user id, name or text of the body appears in a subject, id or contact id."""
    for body in whatsapp_fixtures.values():
        personal = _personal_values(body)
        for event in _run(body).events:
            visible = [event.id, event.subject, getattr(event.data, "contact_id", "")]
            for value in personal:
                assert all(value not in part for part in visible), (value, visible)


def test_same_body_gives_the_same_ids(whatsapp_fixtures: Fixtures) -> None:
    """A redelivered body (new request, new correlation id) gives identical event ids."""
    for body in whatsapp_fixtures.values():
        first = [e.id for e in _run(body, "req-1").events]
        second = [e.id for e in _run(copy.deepcopy(body), "req-2").events]
        assert first == second


def test_batched_body_gives_one_event_per_update(whatsapp_fixtures: Fixtures) -> None:
    """Several entries in one body become several events, in order."""
    text = whatsapp_fixtures[("message.json", "text")]
    status = whatsapp_fixtures[("message_status.json", "read")]
    body = {"object": "whatsapp_business_account", "entry": text["entry"] + status["entry"]}
    assert [type(e) for e in _run(body).events] == [MessageReceived, MessageStatusChanged]


@pytest.mark.parametrize(
    "body",
    [None, [], "whatsapp_business_account", {"object": "page", "entry": []}, {"object": "x"}],
)
def test_foreign_shapes_are_unrecognised(body: object) -> None:
    """A body that is not a Cloud API webhook is reported as unrecognised."""
    assert _run(body).recognised is False


def test_unhandled_field_is_ignored_not_failed(whatsapp_fixtures: Fixtures) -> None:
    """A change of a field we do not handle is counted as ignored, with a fixed reason."""
    body = copy.deepcopy(whatsapp_fixtures[("message.json", "text")])
    body["entry"][0]["changes"][0]["field"] = "account_update"
    result = _run(body)
    assert result.events == ()
    assert result.ignored == ("unhandled change field",)


# --- properties ----------------------------------------------------------------------


@given(body=json_values)
def test_any_json_value_never_raises(body: object) -> None:
    """Whatever JSON arrives, the normaliser returns a result instead of raising."""
    assert isinstance(_run(body), Normalised)


@given(
    value=st.dictionaries(
        st.sampled_from(["messages", "statuses", "contacts", "user_preferences", "metadata"]),
        json_values,
    ),
    field=json_values | st.sampled_from(["messages", "user_preferences"]),
)
def test_any_change_value_never_raises(value: dict[str, Any], field: object) -> None:
    """Arbitrary contents inside a well-formed envelope never make the normaliser raise."""
    value.setdefault("metadata", {"phone_number_id": PHONE_NUMBER_ID})
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}],
    }
    assert isinstance(_run(body), Normalised)


@given(data=st.data())
def test_mutated_fixtures_never_raise(whatsapp_fixtures: Fixtures, data: st.DataObject) -> None:
    """Deleting keys or swapping values for other types in real bodies never makes it raise."""
    case = data.draw(st.sampled_from(sorted(whatsapp_fixtures)))
    body = data.draw(mutated(whatsapp_fixtures[case]))
    result = _run(body)
    assert isinstance(result, Normalised)
    for event in result.events:
        assert decode(encode(event)).id == event.id


def test_group_status_is_keyed_by_group_and_participant(whatsapp_fixtures: Fixtures) -> None:
    """A status for a group message belongs to the group's conversation and the participant."""
    body = whatsapp_fixtures[("message_status.json", "group")]
    (event,) = normalise(body, source="whatsapp-cloud", keys=KEYS, correlation_id="c").events
    assert isinstance(event, MessageStatusChanged)
    assert isinstance(event.data.route, WhatsAppRoute)
    phone_number_id = event.data.route.phone_number_id
    assert event.subject == KEYS.whatsapp_conversation(phone_number_id, "fowefinoewcnw")
    assert event.data.contact_id == KEYS.whatsapp_contact("US.123456")
