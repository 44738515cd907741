"""What anonymising a Chatwoot contact sends, and what it reads from the answers. Pure.

Chatwoot (``contacts_controller.rb``): ``PUT /api/v1/accounts/{a}/contacts/{id}`` takes
``name, identifier, email, phone_number, …, additional_attributes{}, custom_attributes{}``,
and MERGES the two attribute objects into what the contact has; keys are removed only by
``POST …/contacts/{id}/destroy_custom_attributes`` with ``{"custom_attributes": [keys]}``.
``GET``, ``PUT`` and that ``POST`` answer ``{"payload": contact}``. Contacts need a user
token: agent-bot tokens may not read or change them.
"""

from __future__ import annotations

from typing import Any

DELETED_MARK = "gdpr_deleted"


class BadReferenceError(ValueError):
    """A stored Chatwoot reference that is not ``account_id/contact_id``."""


def parse_ref(ref: str) -> tuple[int, int]:
    """``"account_id/contact_id"``, as ``contact_identities.external_ref`` holds it."""
    account, _, contact = ref.partition("/")
    if not (account.isdigit() and contact.isdigit()):
        raise BadReferenceError("not account_id/contact_id")
    return int(account), int(contact)


def contact_path(account_id: int, contact_id: int) -> str:
    return f"/api/v1/accounts/{account_id}/contacts/{contact_id}"


def anonymised(contact_id: int) -> dict[str, Any]:
    """The update body: no name, email or phone number of the person is left."""
    return {
        "name": f"Deleted User {contact_id}",
        "email": f"deleted_{contact_id}@anonymized.local",
        "phone_number": None,
        "custom_attributes": {DELETED_MARK: True},
    }


def attributes_to_remove(body: object) -> list[str]:
    """Custom attribute keys of a ``{"payload": contact}`` answer other than our mark."""
    payload = body.get("payload") if isinstance(body, dict) else None
    contact = payload if isinstance(payload, dict) else {}
    attributes = contact.get("custom_attributes")
    if not isinstance(attributes, dict):
        return []
    return sorted(str(key) for key in attributes if key != DELETED_MARK)
