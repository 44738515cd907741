"""What the PostgreSQL sink writes for each event, decided without a database."""

from __future__ import annotations

import json
from typing import Any

from ingest.normalise.whatsapp import normalise
from schemas.keys import Pseudonymizer
from schemas.position import Position
from sinks.postgres.rows import Edit, InboundMessage, StatusRow, to_row
from tests.conftest import Fixtures

KEYS = Pseudonymizer(b"pepper")
AT = Position("switchboard.inbound.v1", 3, 42)


def _events(fixtures: Fixtures, file: str, case: str) -> list[Any]:
    body = fixtures[(file, case)]
    return list(normalise(body, source="whatsapp-cloud", keys=KEYS, correlation_id="c").events)


def test_received_message_becomes_conversation_and_message(whatsapp_fixtures: Fixtures) -> None:
    """A message row carries ids, its log position, and personal data only in `personal`."""
    (event,) = _events(whatsapp_fixtures, "message.json", "text")
    row = to_row(event, AT)
    assert isinstance(row, InboundMessage)
    assert row.conversation[0] == event.subject
    message = row.message
    assert message[0] == "wa:wamid.xyzxyz"
    assert message[-3:] == ("switchboard.inbound.v1", 3, 42)
    personal = json.loads(message[8])
    assert personal["text"] == "Body Text"
    non_personal = [v for i, v in enumerate(message) if i != 8]
    assert not any("972987654321" in str(v) or "Body Text" in str(v) for v in non_personal)


def test_status_becomes_status_row(whatsapp_fixtures: Fixtures) -> None:
    """A delivery status is one row keyed by event id."""
    (event,) = _events(whatsapp_fixtures, "message_status.json", "failed")
    row = to_row(event, AT)
    assert isinstance(row, StatusRow)
    assert row.values[4] == "failed"
    assert json.loads(row.values[5])[0]["code"] == 130472


def test_revocation_erases_content(whatsapp_fixtures: Fixtures) -> None:
    """A message deleted for everyone has no content to keep."""
    (event,) = _events(whatsapp_fixtures, "deleted_message.json", "revoke")
    row = to_row(event, AT)
    assert isinstance(row, Edit)
    assert row.personal is None


def test_contact_events_are_not_conversation_rows(whatsapp_fixtures: Fixtures) -> None:
    """Consent changes are not this sink's to store."""
    (event,) = _events(whatsapp_fixtures, "user_marketing_preferences.json", "resume")
    assert to_row(event, AT) is None
