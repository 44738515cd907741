"""Provider identities of a contact: phone number, WhatsApp BSUID, Chatwoot contact.

Pure. The worker's PostgreSQL sink records which identities a received message shows for
its contact (as keyed hashes, never plaintext), and the compliance API hashes what a caller
gives the same way to find the contact again. Both sides normalise here, so that
``+49 151 2345678`` and WhatsApp's ``491512345678`` are one identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from schemas.events import Event, MessageReceived, plain
from schemas.keys import Pseudonymizer

IdentityKind = Literal["phone", "bsuid", "chatwoot"]
KINDS: tuple[IdentityKind, ...] = ("phone", "bsuid", "chatwoot")

_PHONE_NOISE = re.compile(r"[\s().\-/]")
_DIGITS = re.compile(r"^[0-9]{6,15}$")  # E.164 allows at most 15 digits
_BSUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_CHATWOOT = re.compile(r"^([0-9]{1,18})/([0-9]{1,18})$")


class IdentityError(ValueError):
    """An identity that cannot be what its kind says; the message never quotes the value."""


def _phone(value: str) -> str:
    digits = _PHONE_NOISE.sub("", value.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not _DIGITS.match(digits):
        raise IdentityError("a phone number is 6 to 15 digits, optionally after a '+'")
    return digits


def _bsuid(value: str) -> str:
    stripped = value.strip()
    if not _BSUID.match(stripped):
        raise IdentityError("a BSUID is up to 128 letters, digits, '.', '_', ':' or '-'")
    return stripped


def _chatwoot(value: str) -> str:
    match = _CHATWOOT.match(value.strip())
    if match is None or int(match[1]) == 0 or int(match[2]) == 0:
        raise IdentityError("a Chatwoot contact is '<account_id>/<contact_id>', both positive")
    return f"{int(match[1])}/{int(match[2])}"


@dataclass(frozen=True)
class Identity:
    """A normalised provider identity; build it with ``Identity.of``."""

    kind: IdentityKind
    value: str

    @classmethod
    def of(cls, kind: IdentityKind, value: str) -> Identity:
        normalise = {"phone": _phone, "bsuid": _bsuid, "chatwoot": _chatwoot}[kind]
        return cls(kind, normalise(value))

    def key(self, keys: Pseudonymizer) -> str:
        """``contact_identities.identity_hash``."""
        return keys.identity(self.kind, self.value)

    def derived_contact_id(self, keys: Pseudonymizer) -> str:
        """The contact id the normalisers give a contact known only by this identity. A
        WhatsApp contact with a BSUID has an id derived from the BSUID, not the phone: for
        them only ``contact_identities`` links the phone to the contact."""
        if self.kind == "chatwoot":
            account, contact = self.value.split("/")
            return keys.chatwoot_contact(int(account), int(contact))
        return keys.whatsapp_contact(self.value)


@dataclass(frozen=True)
class IdentityRow:
    """One row of ``contact_identities``."""

    identity_hash: str
    kind: IdentityKind
    contact_id: str
    external_ref: str | None
    seen_at: datetime


def identities_of(event: Event, keys: Pseudonymizer) -> list[IdentityRow]:
    """The identities a received message shows for its contact (none for other events).

    A malformed identity in a payload is skipped, not fatal: the message is still stored.
    """
    if not isinstance(event, MessageReceived):
        return []
    data, personal = event.data, plain(event.data.personal)
    found: list[tuple[IdentityKind, str | None, str | None]] = []
    if data.channel == "chatwoot":
        ref = personal.provider_contact_id
        found.append(("chatwoot", ref, ref))
    else:
        found.append(("phone", personal.phone, None))
        found.append(("bsuid", personal.user_id, None))
    rows = []
    for kind, value, external_ref in found:
        if not value:
            continue
        try:
            identity = Identity.of(kind, value)
        except IdentityError:
            continue
        rows.append(
            IdentityRow(identity.key(keys), kind, data.contact_id, external_ref, event.time)
        )
    return rows
