"""The contacts agent's work: consent into table, history and view; erasure requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.events import (
    DataRequested,
    DataRequestedData,
    ErasureRequested,
    ErasureRequestedData,
    ExportRequested,
    ExportRequestedData,
)
from streams.consent.keeper import ConsentKeeper
from streams.consent.state import load
from streams.consent.view import ConsentView
from streams.contact_events import ContactEvents, deletion_request
from streams.erasure.driver import Eraser
from streams.erasure.metrics import ErasureMetrics
from streams.erasure.plan import plan
from tests.fakes.consent_events import consent
from tests.fakes.erasure import MemoryDeletions, RecordingProofs, Scripted

WHEN = datetime(2026, 11, 26, tzinfo=UTC)
COMMON: dict[str, Any] = {"source": "switchboard", "time": WHEN, "correlation_id": "c"}


class Records:
    def __init__(self, fail: int = 0) -> None:
        self.rows: dict[str, Any] = {}
        self.fail = fail

    async def add(self, row: Any) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database gone")
        self.rows.setdefault(row[0], row)


def _handler(
    records: Records | None = None,
) -> tuple[ContactEvents, dict[str, Any], ConsentView, MemoryDeletions, list[str]]:
    table: dict[str, Any] = {}
    view = ConsentView()
    store = MemoryDeletions()
    eraser = Eraser(store, {t: Scripted() for t in plan()}, RecordingProofs(), ErasureMetrics())
    started: list[str] = []
    keeper = ConsentKeeper(table, records or Records(), view)
    return ContactEvents(keeper, eraser, started.append), table, view, store, started


async def test_a_consent_change_reaches_table_history_and_view() -> None:
    """The table holds the new state, the history one row, the view the same state."""
    records = Records()
    handler, table, view, _, _ = _handler(records)
    await handler.handle(consent(1, "communication", False))
    state = load(table["ct_1"])
    assert state.recorded("communication") is False
    assert view.get("ct_1") == state
    assert list(records.rows) == ["c1"]


async def test_a_failed_history_write_is_retried_without_a_second_change() -> None:
    """Running the event again after the database failed leaves one change and one row."""
    records = Records(fail=1)
    handler, table, _, _, _ = _handler(records)
    event = consent(1, "marketing", True)
    with pytest.raises(ConnectionError):
        await handler.handle(event)
    await handler.handle(event)
    assert load(table["ct_1"]).revision == 1
    assert list(records.rows) == ["c1"]


async def test_an_erasure_request_forgets_consent_and_starts_the_deletion() -> None:
    """The consent entry goes at once; the deletion is recorded and started."""
    handler, table, view, store, started = _handler()
    await handler.handle(consent(1, "marketing", True))
    erasure = ErasureRequested(
        id="e1",
        subject="ct_1",
        **COMMON,
        data=ErasureRequestedData(
            contact_id="ct_1", deletion_id="del_9", reason="customer_request", requested_by="k1"
        ),
    )
    await handler.handle(erasure)
    assert "ct_1" not in table
    assert len(view) == 0
    assert store.deletions["del_9"].requested_by == "k1"
    assert set(store.targets["del_9"]) == set(plan())
    assert started == ["del_9"]


async def test_an_unconfirmed_chat_request_of_an_old_log_erases_nothing() -> None:
    """data.requested (from before chat requests needed a code) starts no deletion, so a
    replay of such a log cannot erase anyone."""
    handler, _, _, store, started = _handler()
    asked = DataRequested(
        id="data-request:m1",
        subject="ct_1",
        **COMMON,
        data=DataRequestedData(
            contact_id="ct_1", kind="erasure", conversation_key="cv_1", in_reply_to="m1"
        ),
    )
    await handler.handle(asked)
    assert deletion_request(asked) is None
    assert store.deletions == {}
    assert started == []


def test_exports_are_not_erasures() -> None:
    """Export requests, in the chat or from the API, start no deletion."""
    export = ExportRequested(
        id="x1",
        subject="ct_1",
        **COMMON,
        data=ExportRequestedData(contact_id="ct_1", export_id="ex_1", requested_by="k1"),
    )
    chat_export = DataRequested(
        id="data-request:m2",
        subject="ct_1",
        **COMMON,
        data=DataRequestedData(
            contact_id="ct_1", kind="export", conversation_key="cv_1", in_reply_to="m2"
        ),
    )
    assert deletion_request(export) is None
    assert deletion_request(chat_export) is None
