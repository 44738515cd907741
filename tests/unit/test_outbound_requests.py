"""The exact HTTP requests each action becomes, for Chatwoot, the Cloud API and 360dialog."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import pytest

from schemas.events import HandoffReason, Personal, WhatsAppRoute
from sinks.outbound.requests import (
    HANDOFF_REASON_TEXT,
    MessageLookup,
    MessagePage,
    NotDeliverableError,
    OutboundRequest,
    build_requests,
    provider_message_id,
    read_message_page,
)
from tests.fakes.outbound_actions import (
    BSUID,
    CHATWOOT_TOKEN,
    DIALOG360_KEY,
    PHONE,
    TARGETS,
    WHATSAPP_TOKEN,
    handoff,
    reply,
)

CONVERSATION = "https://chat.example.com/api/v1/accounts/3/conversations/42"
CHATWOOT_HEADERS = {"api_access_token": CHATWOOT_TOKEN, "Content-Type": "application/json"}
REPLY_ID = "reply:wa:wamid.1"  # the default action ids of tests.fakes.outbound_actions
HANDOFF_ID = "handoff:wa:wamid.2"
GRAPH_URL = "https://graph.facebook.com/v23.0/100000000000001/messages"
GRAPH_HEADERS = {"Authorization": f"Bearer {WHATSAPP_TOKEN}", "Content-Type": "application/json"}
DIALOG360_HEADERS = {"D360-API-KEY": DIALOG360_KEY, "Content-Type": "application/json"}


def _marked(marker: str) -> dict[str, dict[str, str]]:
    return {"content_attributes": {"switchboard_action": marker}}


def _lookup(marker: str) -> MessageLookup:
    return MessageLookup(f"{CONVERSATION}/messages", {"api_access_token": CHATWOOT_TOKEN}, marker)


def _cloud_body(text: str, **address: str) -> dict[str, object]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **address,
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }


def test_chatwoot_reply_is_a_public_outgoing_message() -> None:
    """A Chatwoot reply posts the text to the conversation's messages, by display id, marked
    with its action and step, and says how to find it there again."""
    assert build_requests(reply("chatwoot", "Hello!"), TARGETS) == [
        OutboundRequest(
            "POST",
            f"{CONVERSATION}/messages",
            CHATWOOT_HEADERS,
            {
                "content": "Hello!",
                "message_type": "outgoing",
                "private": False,
                **_marked(f"{REPLY_ID}:reply"),
            },
            "reply",
            lookup=_lookup(f"{REPLY_ID}:reply"),
        )
    ]


def test_chatwoot_base_url_may_end_with_a_slash() -> None:
    """A trailing slash on the configured base URL does not double up in the path."""
    targets = replace(TARGETS, chatwoot_base_url="https://chat.example.com/")
    [request] = build_requests(reply("chatwoot"), targets)
    assert request.url == f"{CONVERSATION}/messages"


def test_chatwoot_handoff_tells_the_customer_briefs_the_agents_and_opens() -> None:
    """A Chatwoot hand-off is three steps: public notice, private note, toggle_status open."""
    action = handoff("chatwoot", "A colleague will take over.", reason="complaint")
    assert build_requests(action, TARGETS) == [
        OutboundRequest(
            "POST",
            f"{CONVERSATION}/messages",
            CHATWOOT_HEADERS,
            {
                "content": "A colleague will take over.",
                "message_type": "outgoing",
                "private": False,
                **_marked(f"{HANDOFF_ID}:notice"),
            },
            "notice",
            lookup=_lookup(f"{HANDOFF_ID}:notice"),
        ),
        OutboundRequest(
            "POST",
            f"{CONVERSATION}/messages",
            CHATWOOT_HEADERS,
            {
                "content": "Handed over by the bot: the customer has a complaint",
                "message_type": "outgoing",
                "private": True,
                **_marked(f"{HANDOFF_ID}:note"),
            },
            "note",
            lookup=_lookup(f"{HANDOFF_ID}:note"),
        ),
        OutboundRequest(
            "POST",
            f"{CONVERSATION}/toggle_status",
            CHATWOOT_HEADERS,
            {"status": "open"},
            "toggle_status",
            idempotent=True,
        ),
    ]


def test_chatwoot_lookup_uses_the_admin_token_when_there_is_one() -> None:
    """Listing messages takes a user token when configured (bot tokens may not list); the
    message itself is still posted with the bot token."""
    targets = replace(TARGETS, chatwoot_admin_token="admin-token-for-tests")
    [request] = build_requests(reply("chatwoot"), targets)
    assert request.headers["api_access_token"] == CHATWOOT_TOKEN
    assert request.lookup is not None
    assert request.lookup.headers == {"api_access_token": "admin-token-for-tests"}
    assert "admin-token-for-tests" not in repr(request)


def test_markers_tell_actions_and_steps_apart() -> None:
    """Each Chatwoot message of each action carries its own marker."""
    markers = [
        r.json["content_attributes"]["switchboard_action"]
        for action in (reply("chatwoot", action_id="a1"), handoff("chatwoot", action_id="a2"))
        for r in build_requests(action, TARGETS)
        if r.lookup is not None
    ]
    assert markers == ["a1:reply", "a2:notice", "a2:note"]


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_chatwoot_handoff_without_notice_only_notes_and_opens(text: str | None) -> None:
    """With nothing to tell the customer, the hand-off is the private note and toggle_status."""
    steps = [r.step for r in build_requests(handoff("chatwoot", text), TARGETS)]
    assert steps == ["note", "toggle_status"]


def test_private_note_carries_no_personal_data() -> None:
    """The agents' note states only the reason: no text, name, phone, user id or email."""
    personal = Personal(
        text="Ada here, call me on +15550002222",
        contact_name="Ada Lovelace",
        phone="15550002222",
        user_id=BSUID,
        email="ada@example.com",
    )
    action = handoff("chatwoot", reason="human_request", personal=personal)
    [note] = [r for r in build_requests(action, TARGETS) if r.step == "note"]
    assert note.json["content"] == "Handed over by the bot: the customer asked to talk to a person"
    for value in ("Ada", "15550002222", BSUID, "ada@example.com"):
        assert value not in str(note.json)


def test_every_handoff_reason_has_plain_words() -> None:
    """Each hand-off reason the flow can give has a sentence for the agents."""
    assert set(HANDOFF_REASON_TEXT) == set(get_args(HandoffReason))
    assert all(text and "_" not in text for text in HANDOFF_REASON_TEXT.values())


def test_cloud_api_reply_goes_to_the_phone_number_id() -> None:
    """A Cloud API reply posts a text message to /{phone_number_id}/messages with a Bearer token."""
    assert build_requests(reply("whatsapp-cloud", "Hi!"), TARGETS) == [
        OutboundRequest("POST", GRAPH_URL, GRAPH_HEADERS, _cloud_body("Hi!", to=PHONE), "reply")
    ]


@pytest.mark.parametrize("source", ["whatsapp-cloud", "360dialog"])
def test_whatsapp_messages_cannot_be_looked_up(source: str) -> None:
    """The Cloud API has no list of sent messages: no lookup, and not idempotent either."""
    [request] = build_requests(reply(source), TARGETS)  # type: ignore[arg-type]
    assert (request.lookup, request.idempotent) == (None, False)


def test_recipient_known_only_by_bsuid_is_addressed_by_recipient() -> None:
    """Without a phone number, the business-scoped user id goes in "recipient", not "to"."""
    [request] = build_requests(reply("whatsapp-cloud", "Hi!", phone=None, user_id=BSUID), TARGETS)
    assert request.json == _cloud_body("Hi!", recipient=BSUID)


def test_phone_number_wins_over_bsuid() -> None:
    """With both known, the message goes "to" the phone number and has no "recipient"."""
    [request] = build_requests(reply("whatsapp-cloud", "Hi!", user_id=BSUID), TARGETS)
    assert request.json == _cloud_body("Hi!", to=PHONE)


@pytest.mark.parametrize("source", ["whatsapp-cloud", "360dialog"])
def test_whatsapp_without_recipient_is_not_deliverable(source: str) -> None:
    """A WhatsApp action with neither phone nor user id cannot be sent."""
    action = reply(source, phone=None, user_id=None)  # type: ignore[arg-type]
    with pytest.raises(NotDeliverableError) as caught:
        build_requests(action, TARGETS)
    assert caught.value.reason == "no_recipient"


def test_phone_number_id_is_escaped_in_the_path() -> None:
    """A phone number id cannot add path segments to the Graph URL."""
    action = reply("whatsapp-cloud", route=WhatsAppRoute(phone_number_id="1/../2"))
    [request] = build_requests(action, TARGETS)
    assert request.url == "https://graph.facebook.com/v23.0/1%2F..%2F2/messages"


def test_cloud_api_handoff_is_only_the_customer_notice() -> None:
    """On the direct channel a hand-off sends only the notice: there is no agent desk to open."""
    assert build_requests(handoff("whatsapp-cloud", "A person will reply."), TARGETS) == [
        OutboundRequest(
            "POST",
            GRAPH_URL,
            GRAPH_HEADERS,
            _cloud_body("A person will reply.", to=PHONE),
            "notice",
        )
    ]


@pytest.mark.parametrize("source", ["whatsapp-cloud", "360dialog"])
def test_whatsapp_handoff_without_notice_sends_nothing(source: str) -> None:
    """A direct-channel hand-off with nothing to tell the customer has no request at all."""
    assert build_requests(handoff(source, ""), TARGETS) == []  # type: ignore[arg-type]


def test_360dialog_reply_uses_its_base_url_and_api_key() -> None:
    """360dialog takes the Cloud API body at {base}/messages with the D360-API-KEY header."""
    assert build_requests(reply("360dialog", "Hi!"), TARGETS) == [
        OutboundRequest(
            "POST",
            "https://waba-v2.360dialog.io/messages",
            DIALOG360_HEADERS,
            _cloud_body("Hi!", to=PHONE),
            "reply",
        )
    ]


def test_360dialog_handoff_is_only_the_customer_notice() -> None:
    """A 360dialog hand-off, like the direct Cloud API one, is the notice alone."""
    [request] = build_requests(
        handoff("360dialog", "A person will reply.", user_id=BSUID, phone=None), TARGETS
    )
    assert (request.step, request.url) == ("notice", "https://waba-v2.360dialog.io/messages")
    assert request.json == _cloud_body("A person will reply.", recipient=BSUID)


@pytest.mark.parametrize("source", ["chatwoot", "whatsapp-cloud", "360dialog"])
@pytest.mark.parametrize("text", [None, "", "  "])
def test_reply_without_text_is_not_deliverable(source: str, text: str | None) -> None:
    """A reply with no text is a mistake upstream, not something to send."""
    with pytest.raises(NotDeliverableError) as caught:
        build_requests(reply(source, text), TARGETS)  # type: ignore[arg-type]
    assert caught.value.reason == "empty_reply"


def test_route_must_match_the_source() -> None:
    """A Cloud API action routed like a Chatwoot conversation is not deliverable."""
    action = reply("whatsapp-cloud").model_copy(
        update={"data": reply("chatwoot").data.model_copy(update={"source": "whatsapp-cloud"})}
    )
    with pytest.raises(NotDeliverableError) as caught:
        build_requests(action, TARGETS)
    assert caught.value.reason == "route_mismatch"


def test_actions_from_switchboard_itself_have_no_provider() -> None:
    """An action whose conversation came from no provider cannot be sent anywhere."""
    with pytest.raises(NotDeliverableError) as caught:
        build_requests(reply("switchboard"), TARGETS)
    assert caught.value.reason == "unsupported_source"


def test_repr_hides_credentials_and_text() -> None:
    """A request in a log line or traceback shows neither the token nor the customer's text."""
    [request] = build_requests(reply("whatsapp-cloud", "very private words"), TARGETS)
    shown = repr(request)
    assert WHATSAPP_TOKEN not in shown
    assert "very private words" not in shown
    assert PHONE not in shown


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"id": 1234, "content": "Hi", "message_type": 1}, "1234"),
        (
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": PHONE, "wa_id": PHONE}],
                "messages": [{"id": "wamid.HBgL"}],
            },
            "wamid.HBgL",
        ),
        ({"meta": {}, "payload": {"success": True, "current_status": "open"}}, None),
        ({"messages": []}, None),
        ({"messages": [{"id": ""}]}, None),
        ({"id": True}, None),
        ({"id": None}, None),
        ([{"id": 1}], None),
        (None, None),
    ],
)
def test_provider_message_id_is_read_from_each_answer(body: object, expected: str | None) -> None:
    """Chatwoot's message ``id`` and the Graph API's ``messages[0].id`` are kept; else None."""
    assert provider_message_id(body) == expected


def _listed(message_id: int, created_at: int, **attributes: str) -> dict[str, object]:
    return {
        "id": message_id,
        "content": "text",
        "message_type": 1,
        "private": False,
        "content_attributes": attributes,
        "created_at": created_at,
    }


def test_message_page_finds_the_marker() -> None:
    """The message whose content_attributes carry the marker is found, with its id."""
    body = {
        "meta": {},
        "payload": [
            _listed(7, 1_700_000_000),
            _listed(9, 1_700_000_005, switchboard_action="a1:reply"),
            _listed(8, 1_700_000_003, switchboard_action="a1:note"),
        ],
    }
    assert read_message_page(body, "a1:reply") == MessagePage(
        found=True, size=3, found_id="9", oldest_id=7, oldest_created_at=1_700_000_000
    )
    assert read_message_page(body, "a2:reply") == MessagePage(
        found=False, size=3, found_id=None, oldest_id=7, oldest_created_at=1_700_000_000
    )


@pytest.mark.parametrize(
    "body", [None, [], {"payload": None}, {"payload": {"id": 1}}, {"payload": ["x"]}]
)
def test_message_page_of_another_shape_is_unreadable(body: object) -> None:
    """An answer that is not Chatwoot's meta/payload list reads as None."""
    assert read_message_page(body, "a1:reply") is None


def test_empty_message_page() -> None:
    """An empty list finds nothing and has no oldest message."""
    assert read_message_page({"meta": {}, "payload": []}, "m") == MessagePage(found=False, size=0)
