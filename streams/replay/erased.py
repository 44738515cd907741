"""Which re-published records would bring back a forgotten contact. Pure.

``erasures.v1`` lists every erased contact (key = contact id). A record is held back when
its event names an erased contact in ``data.contact_id``, or, for conversation events that
name no contact (status changes), when an earlier record of the range tied its conversation
to an erased contact. A record that cannot be read cannot be cleared either: it is held back
too, and counted apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

from schemas.catalogue import CONTACT_EVENTS, DATA_KEYS, ERASURES, topic_for
from schemas.events import decode

Verdict = Literal["keep", "erased", "unreadable"]

_CONTACT_KEYED = frozenset({CONTACT_EVENTS.name, DATA_KEYS.name, ERASURES.name})


@dataclass
class ErasureFilter:
    erased: frozenset[str]
    # Conversation keys found to belong to an erased contact while reading the range.
    conversations: set[str] = field(default_factory=set)

    @classmethod
    def from_contacts(cls, contacts: Iterable[str]) -> ErasureFilter:
        return cls(frozenset(contacts))

    def verdict(self, value: bytes | None) -> Verdict:
        if value is None:
            return "unreadable"
        try:
            event = decode(value)
        except ValidationError:
            return "unreadable"
        contact = getattr(event.data, "contact_id", None)
        if isinstance(contact, str):
            if contact not in self.erased:
                return "keep"
            if topic_for(event).name not in _CONTACT_KEYED:
                self.conversations.add(event.subject)
            return "erased"
        return "erased" if event.subject in self.conversations else "keep"


def erased_contacts(records: Iterable[tuple[bytes | None, bytes | None]]) -> set[str]:
    """Contact ids from ``erasures.v1`` records (key, value). The topic is never tombstoned,
    but a tombstone, should one appear, does not bring a contact back: erased is erased."""
    return {key.decode() for key, _ in records if key}
