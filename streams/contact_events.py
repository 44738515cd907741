"""What the contacts agent does with each event of ``contact-events.v1``. No Faust here.

- ``consent.changed``: the consent table, ``consent_records`` and the consent view;
- ``erasure.requested`` (from the compliance API, the CLI, retention, or a request
  confirmed in the chat): the contact's consent entry is tombstoned at once (only this agent
  may write the table), the deletion is recorded with its targets, and the driver is
  started; the driver's own timer carries it on from there.

``data.requested`` erases nothing: it was written when one chat message was enough, and a
replay of such a log must not act on it. Other events of the topic (identity changes,
exports) are left to their own agents.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.erasure import DeletionRequest
from schemas.events import ConsentChanged, ErasureRequested, Event
from streams.consent.keeper import ConsentKeeper
from streams.erasure.driver import Eraser


def deletion_request(event: Event) -> DeletionRequest | None:
    """The deletion an event asks for, if any."""
    if isinstance(event, ErasureRequested):
        data = event.data
        return DeletionRequest(data.deletion_id, data.contact_id, data.reason, data.requested_by)
    return None


class ContactEvents:
    def __init__(
        self, consent: ConsentKeeper, eraser: Eraser, start: Callable[[str], None]
    ) -> None:
        self.consent = consent
        self.eraser = eraser
        self.start = start

    async def handle(self, event: Event) -> None:
        if isinstance(event, ConsentChanged):
            await self.consent.changed(event)
            return
        request = deletion_request(event)
        if request is None:
            return
        self.consent.forget(request.contact_id)
        await self.eraser.request(request)
        self.start(request.deletion_id)
