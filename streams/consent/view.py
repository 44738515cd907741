"""Every contact's consent, readable from any agent of the process. Pure: no Kafka here.

Why a view, and not the ``consent`` table itself: the table is partitioned by contact (it
follows ``contact-events.v1``), while the ``converse`` agent is partitioned by conversation,
so the contact a message comes from usually lives in a partition another worker owns.
Faust's GlobalTable would give every worker every partition, but faust-streaming 0.15.3
warns that with more than one instance it can loop in recovery for ever
(``faust/tables/globaltable.py``), which our crash tests (several workers, kills,
rebalances) would walk into. So each worker keeps this plain view instead:

- a follower (``streams/consent/follower.py``) reads the table's compacted changelog, every
  partition, from the beginning, and feeds each record to ``apply_record``; a tombstone
  (value None) removes the contact;
- the consent agent also ``put``s what it just wrote, so a worker sees its own changes at
  once, before they come back through the changelog;
- both paths carry the state's ``revision``, and an older revision never replaces a newer
  one, whichever path delivers it first.

``ready`` is set once the follower has read up to the end offsets it found at start-up:
until then the view may miss a withdrawal, so readers wait for it. Between workers the view
is eventually consistent: a change made on another worker is seen once its changelog record
is read (typically within a second).
"""

from __future__ import annotations

import asyncio
import json

import structlog
from pydantic import ValidationError

from streams.consent.state import ConsentState, load

log = structlog.get_logger(__name__)


def table_key(raw: bytes | None) -> str | None:
    """A changelog key: Faust writes table keys as JSON strings (``"ct_…"``)."""
    if raw is None:
        return None
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
    return decoded if isinstance(decoded, str) else None


class ConsentView:
    def __init__(self) -> None:
        self._states: dict[str, ConsentState] = {}
        self.ready = asyncio.Event()

    def get(self, contact_id: str) -> ConsentState:
        return self._states.get(contact_id) or ConsentState()

    def put(self, contact_id: str, state: ConsentState) -> None:
        current = self._states.get(contact_id)
        if current is None or state.revision >= current.revision:
            self._states[contact_id] = state

    def forget(self, contact_id: str) -> None:
        self._states.pop(contact_id, None)

    def apply_record(self, key: bytes | None, value: bytes | None) -> None:
        """One changelog record: a JSON state, or a tombstone."""
        contact_id = table_key(key)
        if contact_id is None:
            return
        if value is None:
            self.forget(contact_id)
            return
        try:
            self.put(contact_id, load(json.loads(value)))
        except (ValueError, ValidationError):
            log.warning("consent_record_unreadable")

    async def current(self, contact_id: str) -> ConsentState:
        """The contact's consent, once the view has caught up with the changelog."""
        await self.ready.wait()
        return self.get(contact_id)

    def __len__(self) -> int:
        return len(self._states)
