"""The consent agent's work for one event: table first, then the history row, then the
view. No Faust here: the table is any mutable mapping (a Faust table in the worker, a dict
in unit tests), and it must be written from the agent that owns the contact's partition.

A failure anywhere makes the caller run the event again: the table update is then a no-op
(the same event changes nothing twice) and the history insert is idempotent on the event id.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

import structlog

from schemas.events import ConsentChanged
from streams.consent.state import changed, dump, load, record_row
from streams.consent.view import ConsentView

log = structlog.get_logger(__name__)

ConsentRow = tuple[Any, ...]


class ConsentRecords(Protocol):
    async def add(self, row: Any) -> None:
        """Store one history row; the same event id twice stores it once."""
        ...


class ConsentKeeper:
    def __init__(
        self, table: MutableMapping[str, Any], records: ConsentRecords, view: ConsentView
    ) -> None:
        self.table = table
        self.records = records
        self.view = view

    async def changed(self, event: ConsentChanged) -> None:
        contact_id = event.data.contact_id
        after = changed(load(self.table.get(contact_id)), event)
        if after is not None:
            self.table[contact_id] = dump(after)
            self.view.put(contact_id, after)
        await self.records.add(record_row(event))
        log.info(
            "consent_changed",
            contact=contact_id,
            event_id=event.id,
            consent_type=event.data.consent_type,
            granted=event.data.granted,
            origin=event.data.origin,
            applied=after is not None,
        )

    def forget(self, contact_id: str) -> None:
        """Erasure: drop the entry (Faust writes a tombstone to the changelog)."""
        self.table.pop(contact_id, None)
        self.view.forget(contact_id)
