"""Pseudonymous keys: keyed hashes of provider identities.

A Kafka key, a metric label or a log line may carry these, never the phone number, user
id or name they are derived from. The pepper (``SWITCHBOARD_PSEUDONYM_KEY``) stays on the
server, so a key cannot be reversed by hashing every phone number.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

_SEPARATOR = "\x1f"  # cannot occur in a provider id, so parts never run into each other


@dataclass(frozen=True)
class Pseudonymizer:
    pepper: bytes

    def _hash(self, namespace: str, *parts: str) -> str:
        message = _SEPARATOR.join((namespace, *parts)).encode()
        return hmac.new(self.pepper, message, hashlib.sha256).hexdigest()[:32]

    def whatsapp_contact(self, identity: str) -> str:
        """Contact id of a WhatsApp user, from their BSUID or, failing that, phone number."""
        return "ct_" + self._hash("whatsapp-contact", identity)

    def whatsapp_conversation(self, phone_number_id: str, identity: str) -> str:
        """One conversation per business number and customer."""
        return "cv_" + self._hash("whatsapp-conversation", phone_number_id, identity)

    def chatwoot_contact(self, account_id: int, contact_id: int) -> str:
        return "ct_" + self._hash("chatwoot-contact", str(account_id), str(contact_id))

    def chatwoot_conversation(self, account_id: int, conversation_id: int) -> str:
        return "cv_" + self._hash("chatwoot-conversation", str(account_id), str(conversation_id))

    def identity(self, kind: str, value: str) -> str:
        """Key of a provider identity (``contact_identities.identity_hash``): the kind is
        hashed with the value, so a phone number and a BSUID never share a key."""
        return "id_" + self._hash("identity", kind, value)
