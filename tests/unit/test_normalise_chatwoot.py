from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ingest.normalise.chatwoot import normalise
from ingest.normalise.result import Normalised
from schemas.events import (
    ChatwootRoute,
    ConversationStatusChanged,
    MessageReceived,
    decode,
    encode,
)
from schemas.keys import Pseudonymizer
from tests.fakes import chatwoot_payloads as cw
from tests.json_strategies import json_values, mutated

KEYS = Pseudonymizer(b"unit-test-pepper-0123456789abcdef")
DELIVERY = "6f1c3f0e-2b7a-4d0e-9a43-3a1e5b8d7c21"
STATUS_EVENT_ID = (
    f"chatwoot:{cw.ACCOUNT_ID}:conversation:{cw.CONVERSATION_DISPLAY_ID}:status:open:"
    f"{round(cw.UPDATED_AT * 1_000_000)}"
)

# Every reason the normaliser may give: fixed words, never anything taken from the body.
REASONS = frozenset(
    {
        "private note",
        "outgoing message",
        "template message",
        "activity message",
        "unhandled message type",
        "message not sent by a contact",
        "malformed message",
        "malformed timestamp",
        "malformed conversation",
        "malformed payload",
        "conversation update without status or assignment change",
        "conversation change without a timestamp or delivery id",
        *(
            f"{event} not handled"
            for event in (
                "contact_created",
                "contact_updated",
                "inbox_created",
                "inbox_updated",
                "conversation_created",
                "conversation_typing_on",
                "conversation_typing_off",
                "webwidget_triggered",
                "message_updated",
            )
        ),
    }
)


def _run(body: object, correlation_id: str = "req-1", delivery_id: str | None = DELIVERY) -> Any:
    return normalise(body, keys=KEYS, correlation_id=correlation_id, delivery_id=delivery_id)


def _one(body: object, **kwargs: Any) -> Any:
    result = _run(body, **kwargs)
    assert result.ignored == ()
    (event,) = result.events
    return event


def _ignored(body: object) -> tuple[str, ...]:
    result = _run(body)
    assert result.recognised
    assert result.events == ()
    return result.ignored  # type: ignore[no-any-return]


# --- message_created -----------------------------------------------------------------


def test_incoming_message_becomes_message_received() -> None:
    """A customer's message becomes MessageReceived with Chatwoot's ids and the reply route."""
    event = _one(cw.incoming_message())
    assert isinstance(event, MessageReceived)
    assert event.id == f"chatwoot:{cw.ACCOUNT_ID}:message:{cw.MESSAGE_ID}"
    assert event.source == "chatwoot"
    assert event.correlation_id == "req-1"
    assert event.subject == KEYS.chatwoot_conversation(cw.ACCOUNT_ID, cw.CONVERSATION_DISPLAY_ID)
    assert event.time == datetime(2026, 3, 3, 13, 5, 57, tzinfo=UTC)
    assert event.data.channel == "chatwoot"
    assert event.data.contact_id == KEYS.chatwoot_contact(cw.ACCOUNT_ID, cw.CONTACT_ID)
    assert event.data.route == ChatwootRoute(
        account_id=cw.ACCOUNT_ID, conversation_id=cw.CONVERSATION_DISPLAY_ID, inbox_id=cw.INBOX_ID
    )
    assert event.data.provider_message_id == str(cw.MESSAGE_ID)
    assert event.data.message_type == "text"
    assert event.data.in_reply_to is None


def test_incoming_message_personal_part() -> None:
    """Name, phone, email and text sit in the personal part, with Chatwoot's own objects."""
    event = _one(cw.incoming_message())
    personal = event.data.personal
    assert personal.text == cw.MESSAGE_TEXT
    assert personal.contact_name == cw.CONTACT_NAME
    assert personal.phone == cw.CONTACT_PHONE
    assert personal.email == cw.CONTACT_EMAIL
    assert personal.content == {"content_attributes": {}, "additional_attributes": {}}


def test_attachments_are_kept_in_the_personal_part() -> None:
    """An attachment's links travel only inside the personal part."""
    event = _one(cw.incoming_with_attachment())
    assert event.data.personal.text is None
    assert [a["id"] for a in event.data.personal.content["attachments"]] == [918]


def test_no_personal_data_in_keys_or_ids() -> None:
    """The contact's name, phone, email and text appear in no id, subject or contact id."""
    event = _one(cw.incoming_message())
    visible = " ".join([event.id, event.subject, event.data.contact_id])
    for value in (cw.CONTACT_NAME, cw.CONTACT_PHONE, cw.CONTACT_EMAIL, cw.MESSAGE_TEXT, "7731"):
        assert value not in visible
    assert "447700900123" not in visible


def test_the_display_id_routes_the_conversation() -> None:
    """The conversation is addressed by conversation.id (the display id), not another id."""
    body = cw.incoming_message()
    body["conversation"]["id"] = 5
    event = _one(body)
    assert event.data.route.conversation_id == 5
    assert event.subject == KEYS.chatwoot_conversation(cw.ACCOUNT_ID, 5)


def test_account_webhook_and_agent_bot_deliveries_dedupe() -> None:
    """The same message delivered twice, to different targets, gives one event id."""
    first = _one(cw.incoming_message(), correlation_id="req-1", delivery_id=DELIVERY)
    second = _one(cw.incoming_message(), correlation_id="req-2", delivery_id="other-delivery")
    assert first.id == second.id
    assert first.correlation_id != second.correlation_id


def test_reply_names_the_quoted_message() -> None:
    """content_attributes.in_reply_to becomes in_reply_to, as a string."""
    body = cw.incoming_message()
    body["content_attributes"] = {"in_reply_to": 4400, "in_reply_to_external_id": "wamid.Q"}
    event = _one(body)
    assert event.data.in_reply_to == "4400"
    assert event.data.personal.content["content_attributes"]["in_reply_to_external_id"] == "wamid.Q"


@pytest.mark.parametrize(
    "created_at",
    [
        "2026-03-03T13:05:57.000Z",
        "2026-03-03T13:05:57Z",
        "2026-03-03T13:05:57.000+00:00",
        "2026-03-03T18:35:57.000+05:30",
        "2026-03-03 13:05:57 UTC",
        "2026-03-03 18:35:57 +0530",
        "2026-03-03 13:05:57",
        1772543157,
        1772543157.0,
        "1772543157",
    ],
)
def test_rails_time_formats(created_at: object) -> None:
    """ISO-8601, Time#to_s and epoch seconds all read as the same instant."""
    body = cw.incoming_message()
    body["created_at"] = created_at
    assert _one(body).time == datetime(2026, 3, 3, 13, 5, 57, tzinfo=UTC)


@pytest.mark.parametrize("created_at", [None, "", "yesterday", True, [], {}, float("nan"), 10**30])
def test_unreadable_created_at_falls_back_to_the_conversation(created_at: object) -> None:
    """If the message time cannot be read, the conversation's timestamp is used instead."""
    body = cw.incoming_message()
    body["created_at"] = created_at
    body["conversation"]["timestamp"] = 1772543100
    assert _one(body).time == datetime.fromtimestamp(1772543100, tz=UTC)


def test_no_readable_time_is_skipped() -> None:
    """With neither time readable the message is ignored as malformed, not guessed."""
    body = cw.incoming_message()
    body["created_at"] = "soon"
    del body["conversation"]["timestamp"]
    assert _ignored(body) == ("malformed timestamp",)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (cw.bot_reply, "outgoing message"),
        (cw.agent_reply, "outgoing message"),
        (cw.private_note, "private note"),
        (cw.template_message, "template message"),
    ],
)
def test_messages_we_must_not_answer_are_ignored(build: Any, reason: str) -> None:
    """Our own replies, agents' replies, private notes and templates never become events."""
    assert _ignored(build()) == (reason,)


@pytest.mark.parametrize("private", [True, "true", 1, {}])
def test_incoming_marked_private_is_ignored(private: object) -> None:
    """Anything but private=false (or absent) on an incoming message is treated as a note."""
    body = cw.incoming_message()
    body["private"] = private
    assert _ignored(body) == ("private note",)


def test_incoming_without_private_flag_is_taken() -> None:
    """An incoming message with no private flag at all is still a customer's message."""
    body = cw.incoming_message()
    del body["private"]
    assert isinstance(_one(body), MessageReceived)


@pytest.mark.parametrize("message_type", [0, 1, "activity", "INCOMING", None, ["incoming"]])
def test_other_message_types_are_ignored(message_type: object) -> None:
    """Only the string "incoming" at top level counts; the integer enum of messages[] does not."""
    body = cw.incoming_message()
    body["message_type"] = message_type
    result = _ignored(body)
    assert result in {("activity message",), ("unhandled message type",)}


@pytest.mark.parametrize("sender", [cw.agent, cw.agent_bot])
def test_incoming_from_an_agent_or_bot_is_ignored(sender: Any) -> None:
    """An 'incoming' message whose sender is a user or a bot is not taken as the customer's."""
    body = cw.incoming_message()
    body["sender"] = sender()
    assert _ignored(body) == ("message not sent by a contact",)


@pytest.mark.parametrize(
    "remove",
    [
        ("id",),
        ("sender",),
        ("sender", "id"),
        ("conversation",),
        ("conversation", "id"),
    ],
)
def test_missing_ids_are_malformed(remove: tuple[str, ...]) -> None:
    """Without message, sender or conversation ids the message cannot be routed."""
    body = cw.incoming_message()
    target = body
    for key in remove[:-1]:
        target = target[key]
    del target[remove[-1]]
    assert _ignored(body) == ("malformed message",)


def test_missing_account_is_malformed() -> None:
    """Without an account id anywhere, the message cannot be routed."""
    body = cw.incoming_message()
    del body["account"]
    del body["conversation"]["account"]
    for message in body["conversation"]["messages"]:
        del message["account_id"]
    assert _ignored(body) == ("malformed message",)


def test_account_from_the_conversation_when_missing_at_top_level() -> None:
    """Older payloads without a top-level account still name it inside the conversation."""
    body = cw.incoming_message()
    del body["account"]
    del body["conversation"]["account"]
    assert _one(body).data.route.account_id == cw.ACCOUNT_ID


@pytest.mark.parametrize("bad", [True, -1, 0, 1.5, "x1", "", 2**63, [], {}])
def test_ids_of_the_wrong_shape_are_malformed(bad: object) -> None:
    """Ids must be positive integers (or their digits); anything else is refused."""
    body = cw.incoming_message()
    body["id"] = bad
    assert _ignored(body) == ("malformed message",)


def test_ids_as_digit_strings_are_read() -> None:
    """Ids written as decimal strings give the same event as integers."""
    body = cw.incoming_message()
    body["id"] = str(cw.MESSAGE_ID)
    body["conversation"]["id"] = str(cw.CONVERSATION_DISPLAY_ID)
    assert _one(body).id == _one(cw.incoming_message()).id


# --- conversation events ---------------------------------------------------------------


def test_status_changed_becomes_conversation_status_changed() -> None:
    """A human opening a pending conversation gives its status, previous status and assignee."""
    event = _one(cw.conversation_status_changed(previous="pending", current="open"))
    assert isinstance(event, ConversationStatusChanged)
    assert event.id == STATUS_EVENT_ID
    assert event.subject == KEYS.chatwoot_conversation(cw.ACCOUNT_ID, cw.CONVERSATION_DISPLAY_ID)
    assert event.data.status == "open"
    assert event.data.previous_status == "pending"
    assert event.data.assignee_type == "user"
    assert event.data.route == ChatwootRoute(
        account_id=cw.ACCOUNT_ID, conversation_id=cw.CONVERSATION_DISPLAY_ID, inbox_id=cw.INBOX_ID
    )
    assert event.time == datetime.fromtimestamp(cw.UPDATED_AT, tz=UTC)


def test_bot_resolved_has_no_previous_status() -> None:
    """The agent-bot 'conversation_resolved' carries no changed_attributes."""
    event = _one(cw.conversation_resolved())
    assert isinstance(event, ConversationStatusChanged)
    assert event.data.status == "resolved"
    assert event.data.previous_status is None
    assert event.data.assignee_type is None


def test_same_change_from_several_events_dedupes() -> None:
    """status_changed, updated and the bot variants of one save share one event id."""
    changed = cw.conversation_status_changed(previous="pending", current="open")
    updated = copy.deepcopy(changed)
    updated["event"] = "conversation_updated"
    opened = copy.deepcopy(changed)
    opened["event"] = "conversation_opened"
    del opened["changed_attributes"]
    ids = {_one(body).id for body in (changed, updated, opened)}
    assert ids == {STATUS_EVENT_ID}


def test_later_change_gets_another_id() -> None:
    """The same status reached again later is a new event."""
    later = cw.conversation_status_changed()
    later["updated_at"] = cw.UPDATED_AT + 60
    assert _one(later).id != STATUS_EVENT_ID


def test_assignment_update_becomes_an_event() -> None:
    """conversation_updated that assigns an agent says who owns the conversation now."""
    body = cw.conversation_updated({"assignee_id": (None, cw.AGENT_ID)})
    body["meta"]["assignee"] = cw.agent()
    event = _one(body)
    assert isinstance(event, ConversationStatusChanged)
    assert event.data.assignee_type == "user"
    assert event.data.previous_status is None


def test_team_assignment_update() -> None:
    """Assigned to a team and no agent: the owner is the team."""
    body = cw.conversation_updated({"team_id": (None, 4)})
    body["meta"]["team"] = {"id": 4, "name": "billing"}
    assert _one(body).data.assignee_type == "team"


def test_agent_bot_assignee() -> None:
    """A conversation held by the agent bot is not reported as owned by a human."""
    body = cw.conversation_updated({"status": ("open", "pending")})
    body["status"] = "pending"
    body["meta"]["assignee"] = {"id": cw.BOT_ID, "name": "Switchboard", "type": "agent_bot"}
    body["meta"]["assignee_type"] = "AgentBot"
    event = _one(body)
    assert event.data.assignee_type == "agent_bot"
    assert event.data.previous_status == "open"


@pytest.mark.parametrize(
    "changes",
    [
        {"label_list": ([], ["vip"])},
        {"custom_attributes": ({}, {"order": "7731"})},
        {"priority": (None, "high")},
        {},
    ],
)
def test_other_updates_are_ignored(changes: dict[str, tuple[Any, Any]]) -> None:
    """Label, attribute and priority updates say nothing about who owns the conversation."""
    assert _ignored(cw.conversation_updated(changes)) == (
        "conversation update without status or assignment change",
    )


def test_account_from_older_conversation_payloads() -> None:
    """Before Chatwoot added 'account', the account id is read from messages[]."""
    body = cw.conversation_status_changed()
    del body["account"]
    assert _one(body).id == STATUS_EVENT_ID


def test_conversation_without_account_is_malformed() -> None:
    """A conversation that names no account anywhere cannot be routed."""
    body = cw.conversation_status_changed()
    del body["account"]
    body["messages"] = []
    assert _ignored(body) == ("malformed conversation",)


@pytest.mark.parametrize("status", [None, "closed", "OPEN", 1, ["open"], {"open": 1}])
def test_unknown_status_is_malformed(status: object) -> None:
    """Only open, resolved, pending and snoozed are conversation statuses."""
    body = cw.conversation_status_changed()
    body["status"] = status
    assert _ignored(body) == ("malformed conversation",)


@pytest.mark.parametrize("previous", [None, "closed", 2, ["pending"], {"a": 1}])
def test_unknown_previous_status_is_left_out(previous: object) -> None:
    """A previous status Chatwoot does not define is dropped, not passed on."""
    body = cw.conversation_status_changed()
    body["changed_attributes"][0]["status"]["previous_value"] = previous
    assert _one(body).data.previous_status is None


def test_without_timestamps_the_delivery_id_names_the_event() -> None:
    """With no updated_at or timestamp, X-Chatwoot-Delivery (stable across retries) is the id."""
    body = cw.conversation_status_changed()
    del body["updated_at"]
    del body["timestamp"]
    event = _one(body)
    assert event.id == f"chatwoot:delivery:{DELIVERY}"
    assert event.time == datetime.fromtimestamp(cw.CREATED_AT_EPOCH, tz=UTC)


@pytest.mark.parametrize("delivery", [None, "", "a b", "x" * 65, "ünïcode", "1/2"])
def test_without_timestamps_or_usable_delivery_id_the_change_is_skipped(
    delivery: str | None,
) -> None:
    """Without anything stable to build an id from, the change is not taken in."""
    body = cw.conversation_status_changed()
    del body["updated_at"]
    del body["timestamp"]
    assert _run(body, delivery_id=delivery).ignored == (
        "conversation change without a timestamp or delivery id",
    )


def test_status_event_has_no_personal_data_in_ids() -> None:
    """Conversation events carry no contact details in their id or subject."""
    event = _one(cw.conversation_status_changed())
    for value in (cw.CONTACT_NAME, cw.CONTACT_PHONE, cw.CONTACT_EMAIL):
        assert value not in event.id
        assert value not in event.subject


# --- the rest ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        "contact_created",
        "contact_updated",
        "inbox_created",
        "inbox_updated",
        "conversation_created",
        "conversation_typing_on",
        "conversation_typing_off",
        "webwidget_triggered",
        "message_updated",
    ],
)
def test_known_unhandled_events_are_ignored(event: str) -> None:
    """Chatwoot events we do not act on are acknowledged and counted, not failed."""
    body = cw.contact_created() if event.startswith("contact") else cw.incoming_message()
    body["event"] = event
    assert _ignored(body) == (f"{event} not handled",)


@pytest.mark.parametrize(
    "body",
    [
        {"event": "message_deleted", "id": 1},
        {"event": "Message_Created"},
        {"event": 1},
        {"event": None},
        {"event": ["message_created"]},
        {"id": 4512, "message_type": "incoming"},
        [],
        "message_created",
        None,
        42,
    ],
)
def test_unknown_shapes_are_unrecognised(body: object) -> None:
    """An unknown event name or a body without a string event is reported as unrecognised."""
    result = _run(body)
    assert result.recognised is False
    assert result.events == ()


def test_normalising_does_not_change_the_body() -> None:
    """The payload handed in is left as it was."""
    body = cw.incoming_message()
    before = copy.deepcopy(body)
    _run(body)
    assert body == before


# --- properties ----------------------------------------------------------------------

handled_events = st.sampled_from(
    [
        "message_created",
        "conversation_status_changed",
        "conversation_updated",
        "conversation_resolved",
        "conversation_opened",
    ]
)
builders = st.sampled_from(
    [
        cw.incoming_message,
        cw.incoming_with_attachment,
        cw.bot_reply,
        cw.private_note,
        cw.template_message,
        cw.conversation_status_changed,
        cw.conversation_resolved,
        lambda: cw.conversation_updated({"assignee_id": (None, 7)}),
    ]
)


def _assert_well_behaved(result: Normalised) -> None:
    assert isinstance(result, Normalised)
    assert len(result.events) + len(result.ignored) <= 1
    assert set(result.ignored) <= REASONS
    for event in result.events:
        assert decode(encode(event)).id == event.id


@given(body=json_values)
def test_any_json_value_never_raises(body: object) -> None:
    """Whatever JSON arrives, the normaliser returns a result instead of raising."""
    _assert_well_behaved(_run(body))


@given(
    event=handled_events,
    fields=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "account",
                "account_id",
                "conversation",
                "sender",
                "inbox",
                "message_type",
                "private",
                "created_at",
                "content",
                "content_attributes",
                "status",
                "meta",
                "changed_attributes",
                "messages",
                "updated_at",
                "timestamp",
                "inbox_id",
            ]
        ),
        json_values,
    ),
    delivery_id=st.none() | st.text(max_size=80),
)
def test_handled_events_with_any_fields_never_raise(
    event: str, fields: dict[str, Any], delivery_id: str | None
) -> None:
    """A handled event name with arbitrary field values gives an event or a fixed reason."""
    _assert_well_behaved(_run({**fields, "event": event}, delivery_id=delivery_id))


@given(build=builders, data=st.data())
def test_mutated_payloads_never_raise(build: Any, data: st.DataObject) -> None:
    """Deleting keys or swapping values for other types in real payloads never makes it raise."""
    _assert_well_behaved(_run(data.draw(mutated(build()))))


@given(text=st.text(min_size=6, max_size=40))
def test_reasons_never_echo_the_body(text: str) -> None:
    """Whatever a sender writes into a field, it never shows up in an ignore reason."""
    assume(not any(text in reason for reason in REASONS))
    for build in (cw.bot_reply, cw.private_note, cw.incoming_message):
        body = build()
        body["message_type"] = text
        body["content"] = text
        result = _run(body)
        assert all(text not in reason for reason in result.ignored)
        assert set(result.ignored) <= REASONS
