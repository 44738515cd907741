"""The export archive, assembled from plain rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sinks.export.archive import (
    FORMAT_VERSION,
    Action,
    Consent,
    ContactRows,
    Conversation,
    Deletion,
    Export,
    Identity,
    Message,
    assemble,
    encode_archive,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _rows() -> ContactRows:
    return ContactRows(
        contact_id="ct_1",
        identities=[
            Identity("chatwoot", "7/42", _at(0), _at(30)),
            Identity("phone", None, _at(0), _at(5)),
        ],
        conversations=[
            Conversation("cv_b", "whatsapp", "resolved", _at(20), _at(21)),
            Conversation("cv_a", "chatwoot", "open", _at(0), _at(2)),
        ],
        messages=[
            Message(
                "m2",
                "cv_a",
                "inbound",
                "text",
                _at(2),
                {"text": "second", "contact_name": "Ada L."},
            ),
            Message(
                "m1",
                "cv_a",
                "inbound",
                "text",
                _at(0),
                {"text": "first", "contact_name": "Ada", "phone": "+15550001"},
            ),
            Message(
                "m3",
                "cv_b",
                "inbound",
                "image",
                _at(20),
                {"content": {"image": {"id": "media-1"}}},
                revoked_at=_at(25),
            ),
        ],
        actions=[
            Action(
                "handoff:m2",
                "cv_a",
                "handoff.requested",
                _at(3),
                {"text": ""},
                reason="human_request",
                in_reply_to="m2",
            ),
            Action(
                "reply:m1",
                "cv_a",
                "reply.requested",
                _at(1),
                {"text": "Hello Ada"},
                intent="greeting",
                in_reply_to="m1",
            ),
        ],
        consents=[
            Consent("marketing", False, "chatwoot", "chat:opt_out", _at(10)),
            Consent("marketing", True, "api", "signup", _at(-10), ip_address="192.0.2.1"),
        ],
        deletions=[
            Deletion("del_1", "customer_request", "key_1", "completed", _at(-100), _at(-99))
        ],
        exports=[Export("ex_1", "processing", "key_1", _at(40), expires_at=_at(40 + 7 * 24 * 60))],
    )


def test_the_archive_says_what_it_is_and_when_it_was_made() -> None:
    """Format name, version and generation time head every archive."""
    archive = assemble(_rows(), _at(50))
    assert archive["format_version"] == FORMAT_VERSION
    assert archive["generated_at"] == "2026-03-01T09:50:00+00:00"


def test_the_profile_holds_the_latest_details_and_every_identity() -> None:
    """Name is the newest seen; a detail only an older message carried is still there."""
    contact = assemble(_rows(), _at(50))["contact"]
    assert contact["contact_id"] == "ct_1"
    assert contact["name"] == "Ada L."
    assert contact["phone"] == "+15550001"
    assert contact["email"] is None
    assert [(i["kind"], i["provider_reference"]) for i in contact["identities"]] == [
        ("chatwoot", "7/42"),
        ("phone", None),
    ]


def test_each_conversation_is_the_whole_transcript_in_time_order() -> None:
    """The customer's messages and the bot's replies and hand-off notices, interleaved in
    time order, each marked inbound or outbound (art. 15: everything held, not only what the
    customer wrote)."""
    conversations = assemble(_rows(), _at(50))["conversations"]
    assert [c["conversation_key"] for c in conversations] == ["cv_a", "cv_b"]
    first, second = conversations
    assert [(m["id"], m["direction"], m["type"], m["text"]) for m in first["messages"]] == [
        ("m1", "inbound", "text", "first"),
        ("reply:m1", "outbound", "reply", "Hello Ada"),
        ("m2", "inbound", "text", "second"),
        ("handoff:m2", "outbound", "handoff_notice", None),
    ]
    assert first["messages"][0]["sent_at"] == "2026-03-01T09:00:00+00:00"
    assert first["messages"][3]["reason"] == "human_request"
    (image,) = second["messages"]
    assert image["content"] == {"image": {"id": "media-1"}}
    assert image["revoked_at"] == "2026-03-01T09:25:00+00:00"


def test_a_reply_follows_its_message_even_when_the_next_shares_its_second() -> None:
    """Provider times have whole seconds: the next message may carry an earlier time than
    the reply to the one before it. The reply still comes right after what it answers."""
    rows = ContactRows(
        "ct_1",
        messages=[
            Message("m1", "cv", "inbound", "text", _at(0), {"text": "export my data"}),
            Message("m2", "cv", "inbound", "text", _at(0), {"text": "123456"}),
        ],
        actions=[
            Action(
                "reply:m1",
                "cv",
                "reply.requested",
                _at(0) + timedelta(seconds=0.4),
                {"text": "code?"},
                in_reply_to="m1",
            ),
            Action(
                "reply:m2",
                "cv",
                "reply.requested",
                _at(0) + timedelta(seconds=0.9),
                {"text": "ok"},
                in_reply_to="m2",
            ),
            Action("export-link:x", "cv", "reply.requested", _at(1), {"text": "link"}),
        ],
    )
    (conversation,) = assemble(rows, _at(5))["conversations"]
    assert [m["id"] for m in conversation["messages"]] == [
        "m1",
        "reply:m1",
        "m2",
        "reply:m2",
        "export-link:x",
    ]


def test_the_archive_says_what_is_held_elsewhere() -> None:
    """Agents' messages live in the help desk: the archive says so instead of staying silent."""
    archive = assemble(_rows(), _at(50))
    assert any("help desk" in line for line in archive["held_elsewhere"])


def test_consent_deletion_and_export_history_are_complete() -> None:
    """Every consent change (with its ip address), deletion and export is listed in order."""
    archive = assemble(_rows(), _at(50))
    assert [(c["granted"], c["ip_address"]) for c in archive["consent_history"]] == [
        (True, "192.0.2.1"),
        (False, None),
    ]
    assert [d["deletion_id"] for d in archive["deletion_history"]] == ["del_1"]
    assert archive["export_history"][0]["status"] == "processing"


def test_messages_without_a_conversation_row_are_kept() -> None:
    """A message whose conversation row is missing is still exported, under its key."""
    rows = ContactRows("ct_2", messages=[Message("m9", "cv_x", "inbound", "text", T0, {})])
    (conversation,) = assemble(rows, T0)["conversations"]
    assert conversation["conversation_key"] == "cv_x"
    assert conversation["channel"] is None
    assert [m["id"] for m in conversation["messages"]] == ["m9"]


def test_an_unknown_contact_gets_an_empty_archive() -> None:
    """No rows: an archive that says so, not an error."""
    archive = assemble(ContactRows("ct_none"), T0)
    assert archive["conversations"] == []
    assert archive["consent_history"] == []
    assert archive["contact"]["name"] is None


def test_the_encoding_is_utf8_json_that_round_trips() -> None:
    """Non-ASCII text is written as itself and parses back to the same archive."""
    rows = ContactRows(
        "ct_3", messages=[Message("m", "cv", "inbound", "text", T0, {"text": "Grüße 👋"})]
    )
    archive = assemble(rows, T0)
    data = encode_archive(archive)
    assert "Grüße 👋".encode() in data
    assert json.loads(data) == archive
