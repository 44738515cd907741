"""Which events ask for an export, and where its archive goes."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.events import (
    ChatReplyTo,
    ConsentChanged,
    ConsentChangedData,
    DataRequested,
    DataRequestedData,
    ErasureRequested,
    ErasureRequestedData,
    ExportRequested,
    ExportRequestedData,
    Personal,
    WhatsAppRoute,
)
from sinks.export.writer import BadExportIdError, archive_path, write_atomically
from streams.exports.requests import CHAT_REQUESTER, chat_export_id, export_request

T0 = datetime(2026, 3, 1, tzinfo=UTC)
COMMON = {"source": "switchboard", "time": T0, "subject": "ct_1", "correlation_id": "c1"}


def _chat(kind: str) -> DataRequested:
    return DataRequested(
        id="data-request:m1",
        **COMMON,
        data=DataRequestedData(
            contact_id="ct_1",
            kind=kind,
            conversation_key="cv_1",
            in_reply_to="m1",
        ),
    )


def test_an_api_request_names_its_export() -> None:
    """export.requested carries the id the API created the row with."""
    event = ExportRequested(
        id="export:ex_9",
        **COMMON,
        data=ExportRequestedData(contact_id="ct_1", export_id="ex_9", requested_by="key_1"),
    )
    request = export_request(event, link_days=7)
    assert request is not None
    assert (request.export_id, request.contact_id, request.requested_by) == (
        "ex_9",
        "ct_1",
        "key_1",
    )
    assert request.expires_at == T0 + timedelta(days=7)


def test_an_unconfirmed_chat_request_of_an_old_log_asks_for_no_export() -> None:
    """data.requested predates confirmation in the chat: it asks for nothing."""
    assert export_request(_chat("export"), link_days=7) is None


def test_a_confirmed_chat_request_says_where_to_send_the_link() -> None:
    """export.requested from the chat carries the conversation and the recipient."""
    reply_to = ChatReplyTo(
        channel="whatsapp",
        source="whatsapp-cloud",
        route=WhatsAppRoute(phone_number_id="1"),
        conversation_key="cv_1",
        in_reply_to="m2",
    )
    event = ExportRequested(
        id="chat-export:m1",
        **COMMON,
        data=ExportRequestedData(
            contact_id="ct_1",
            export_id=chat_export_id("m1"),
            requested_by=CHAT_REQUESTER,
            reply_to=reply_to,
            personal=Personal(phone="15550001111"),
        ),
    )
    request = export_request(event, link_days=7)
    assert request is not None
    assert (request.reply_to, request.recipient.phone) == (reply_to, "15550001111")


def test_erasure_and_consent_events_are_not_exports() -> None:
    """A chat erasure request, an erasure and a consent change are someone else's work."""
    erasure = ErasureRequested(
        id="e",
        **COMMON,
        data=ErasureRequestedData(contact_id="ct_1", deletion_id="d", reason="r", requested_by="x"),
    )
    consent = ConsentChanged(
        id="c",
        **COMMON,
        data=ConsentChangedData(
            contact_id="ct_1", consent_type="marketing", granted=True, reason="r"
        ),
    )
    for event in (_chat("erasure"), erasure, consent):
        assert export_request(event, 7) is None


@given(st.text(max_size=40))
def test_an_archive_path_never_leaves_its_directory(export_id: str) -> None:
    """Whatever the id, the path is refused or a direct child of the directory."""
    directory = Path("/srv/exports")
    try:
        path = archive_path(directory, export_id)
    except BadExportIdError:
        return
    assert path.parent == directory
    assert path.name == f"{export_id}.json"


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "..", "a b"])
def test_unsafe_export_ids_are_refused(bad: str) -> None:
    """Separators, parents, hidden names and blanks are not export ids."""
    with pytest.raises(BadExportIdError):
        archive_path(Path("/srv/exports"), bad)


def test_an_archive_is_written_whole_and_private(tmp_path: Path) -> None:
    """The directory is created, the file is 0600, and no temporary file is left."""
    path = archive_path(tmp_path / "exports", "ex_1")
    assert write_atomically(path, b'{"a": 1}') == 8
    assert path.read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    write_atomically(path, b"{}")
    assert path.read_bytes() == b"{}"
    assert os.listdir(path.parent) == ["ex_1.json"]
