"""Which events ask for an export, and what they ask for. Pure.

``export.requested`` comes from the compliance API or the CLI, which created the
``gdpr_exports`` row first; ``data.requested`` of kind export comes from the chat, where
no row exists yet. Both become one `ExportRequest`; the export id of a chat request is
derived from its event id, so a redelivered event asks for the same export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.events import DataRequested, Event, ExportRequested

CHAT_REQUESTER = "customer-chat"


@dataclass(frozen=True)
class ExportRequest:
    export_id: str
    contact_id: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime


def chat_export_id(event_id: str) -> str:
    return "ex_" + hashlib.sha256(event_id.encode()).hexdigest()[:24]


def export_request(event: Event, link_days: int) -> ExportRequest | None:
    """The export an event asks for, or None for every other event."""
    expires = event.time + timedelta(days=link_days)
    if isinstance(event, ExportRequested):
        data = event.data
        return ExportRequest(
            data.export_id, data.contact_id, data.requested_by, event.time, expires
        )
    if isinstance(event, DataRequested) and event.data.kind == "export":
        return ExportRequest(
            chat_export_id(event.id), event.data.contact_id, CHAT_REQUESTER, event.time, expires
        )
    return None
