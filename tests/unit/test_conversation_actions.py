"""Flow outcomes become actions with ids that make re-runs harmless."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.catalogue import topic_for
from schemas.events import (
    ConsentChanged,
    ErasureRequested,
    HandoffRequested,
    MessageReceived,
    MessageReceivedData,
    Personal,
    ReplyRequested,
    WhatsAppRoute,
    plain,
)
from streams.conversation.actions import actions_for, confirmed_request, request_closed
from streams.flow.graph import FlowOutcome as Outcome

NOW = datetime(2026, 11, 25, tzinfo=UTC)
MESSAGE = MessageReceived(
    id="wa:wamid.1",
    source="whatsapp-cloud",
    time=NOW,
    subject="cv_abc",
    correlation_id="req-1",
    data=MessageReceivedData(
        channel="whatsapp",
        contact_id="ct_abc",
        route=WhatsAppRoute(phone_number_id="100"),
        provider_message_id="wamid.1",
        message_type="text",
        personal=Personal(text="STOP", phone="15550001111", contact_name="Ann"),
    ),
)


def test_a_reply_is_addressed_to_the_customer() -> None:
    """The reply carries the text and the recipient, keyed by the conversation."""
    (reply,) = actions_for(MESSAGE, Outcome("reply", "Hi!", intent="greeting"), NOW)
    assert isinstance(reply, ReplyRequested)
    assert (reply.id, reply.subject, reply.correlation_id) == (
        "reply:wa:wamid.1",
        "cv_abc",
        "req-1",
    )
    assert plain(reply.data.personal).text == "Hi!"
    assert plain(reply.data.personal).phone == "15550001111"
    assert plain(reply.data.personal).contact_name is None
    assert reply.data.source == "whatsapp-cloud"


def test_ids_are_the_same_on_every_run() -> None:
    """Running the flow again on the same message produces the same action ids."""
    first = actions_for(MESSAGE, Outcome("handoff", "", reason="complaint", intent=None), NOW)
    second = actions_for(MESSAGE, Outcome("handoff", "", reason="complaint", intent=None), NOW)
    assert [a.id for a in first] == [a.id for a in second] == ["handoff:wa:wamid.1"]
    assert isinstance(first[0], HandoffRequested)


def test_opt_out_also_withdraws_consent_on_the_contact() -> None:
    """STOP is acknowledged and withdraws marketing consent, keyed by contact."""
    outcome = Outcome(
        "reply", "You won't get offers.", intent="opt_out", consent_withdrawn="marketing"
    )
    reply, consent = actions_for(MESSAGE, outcome, NOW)
    assert isinstance(consent, ConsentChanged)
    assert (consent.subject, consent.data.granted, consent.data.consent_type) == (
        "ct_abc",
        False,
        "marketing",
    )
    assert topic_for(consent).key == "contact"
    assert topic_for(reply).key == "conversation"


def test_a_data_request_alone_reaches_no_privacy_pipeline() -> None:
    """'Delete my data' is only answered: the erasure needs the customer's confirmation."""
    outcome = Outcome("reply", "Confirm with 123456", intent="data_request", data_request="erasure")
    assert [type(e) for e in actions_for(MESSAGE, outcome, NOW)] == [ReplyRequested]


def test_a_confirmed_request_goes_to_the_contacts_topic_and_others_nowhere() -> None:
    """Only a confirmed close asks for anything, keyed by contact; the rest is audit."""
    for decision in ("declined", "wrong_code", "expired", "handed_off"):
        closing = request_closed(MESSAGE, "erasure", "m0", decision, now=NOW)
        assert confirmed_request(closing) is None
        assert topic_for(closing).key == "conversation"
    closing = request_closed(MESSAGE, "erasure", "m0", "confirmed", now=NOW, reference="del_1")
    erasure = confirmed_request(closing)
    assert isinstance(erasure, ErasureRequested)
    assert (erasure.subject, erasure.data.deletion_id) == ("ct_abc", "del_1")
    assert topic_for(erasure).key == "contact"
