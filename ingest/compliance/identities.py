"""How an API caller or operator names a contact. Pure.

``ct_…`` is the pseudonymous contact id itself; ``phone:+4915…``, ``bsuid:…`` and
``chatwoot:<account_id>/<contact_id>`` are provider identities, which the service maps to
the contact id through ``contact_identities`` (hashed like the sink hashes them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.compliance.errors import InvalidRequest
from schemas.identities import KINDS, Identity, IdentityError

CONTACT_ID = re.compile(r"^ct_[0-9a-f]{32}$")
MAX_LENGTH = 256
FORMS = "ct_<32 hex digits>, phone:+<digits>, bsuid:<id> or chatwoot:<account_id>/<contact_id>"


@dataclass(frozen=True)
class ContactRef:
    """Either a contact id or a provider identity, never both."""

    contact_id: str | None = None
    identity: Identity | None = None


def parse_contact(text: str) -> ContactRef:
    """Parse what a caller gave; the error message never repeats it (it may be a phone)."""
    value = text.strip()
    if len(value) > MAX_LENGTH:
        raise InvalidRequest(f"contact is too long; give {FORMS}")
    if CONTACT_ID.match(value):
        return ContactRef(contact_id=value)
    kind, sep, rest = value.partition(":")
    matched = next((k for k in KINDS if k == kind.lower()), None)
    if not sep or matched is None:
        raise InvalidRequest(f"contact is not recognised; give {FORMS}")
    try:
        return ContactRef(identity=Identity.of(matched, rest))
    except IdentityError as exc:
        raise InvalidRequest(f"contact: {exc}") from exc
