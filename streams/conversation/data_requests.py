"""Erasure and export requests made in the chat: who may make them, and how a pending one
is confirmed or ends. Pure.

Nothing irreversible follows from one chat message. A recognised request only opens a
pending request in the conversation's state and the bot asks for a one-time code; the next
customer message settles it:

- the code, within the time limit → ``confirmed`` (the erasure or export is requested once
  the reply saying so is delivered: `streams.delivery`);
- another code, or the code with a "no" → ``wrong_code`` / ``declined``;
- anything after the time limit → ``expired``;
- anything else → ``declined``, and the message is answered as usual.

The code is an HMAC of the request's event id under a server key, so the state and the log
never hold it, and handling the same message again (a crash, a replay) gives the same code.
The time limit runs on the messages' own times, so a replay decides the same way.

Only channels whose provider vouches for who is writing may confirm in the chat: WhatsApp
(Meta verifies the number), directly or through 360dialog. Chatwoot inboxes (web widget,
e-mail, API) do not, so a request there goes to a person with a private note.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from schemas.events import DataRequestDecision, DataRequestKind, Source
from streams.erasure.plan import chat_deletion_id
from streams.exports.requests import chat_export_id
from streams.flow import texts
from streams.flow.intent import normalise

CODE_DIGITS = 6
VERIFIED_SOURCES: frozenset[Source] = frozenset({"whatsapp-cloud", "360dialog"})

# "no 123456", "nicht 123456": the code, but not a yes.
_NO = frozenset(
    {"no", "not", "dont", "don", "never", "cancel", "nein", "nicht", "non", "pas", "nee", "niet"}
    | {"nao", "nunca", "jamais", "stop", "annuler", "abbrechen", "cancelar", "annuleren"}
)


def may_confirm_in_chat(source: Source) -> bool:
    """Whether a customer on this provider's channel may confirm a data request in the chat."""
    return source in VERIFIED_SOURCES


class PendingRequest(BaseModel):
    """A request waiting for its code; kept in the conversation's state."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: DataRequestKind
    request_id: str
    expires_at: float


class ConfirmationCodes:
    """The one-time code of each request, from a server-side key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def code(self, request_id: str) -> str:
        digest = hmac.new(self._key, f"chat-confirmation\x1f{request_id}".encode(), "sha256")
        return f"{int.from_bytes(digest.digest()[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def confirmation_key(pseudonym_key: bytes) -> bytes:
    """A key of its own for the codes, derived so that one secret serves both purposes."""
    return hashlib.sha256(b"switchboard chat confirmation v1\x1f" + pseudonym_key).digest()


def reference(kind: DataRequestKind, request_id: str) -> str:
    """The deletion or export id a confirmed request becomes (the customer is told it)."""
    return chat_deletion_id(request_id) if kind == "erasure" else chat_export_id(request_id)


@dataclass(frozen=True)
class Settled:
    """How a customer message ended a pending request.

    ``answer`` is the whole reply when the message was about the request (a code); otherwise
    the message is answered as usual, after ``notice`` when there is one.
    """

    decision: DataRequestDecision
    answer: str | None = None
    notice: str | None = None
    reference: str | None = None


def settle(pending: PendingRequest, text: str | None, at: float, code: str) -> Settled:
    """What the customer's next message, sent at ``at`` (unix seconds), does to ``pending``."""
    words = normalise(text or "").split()
    offered = [w for w in words if w.isdigit() and len(w) == CODE_DIGITS]
    if at > pending.expires_at:
        late = texts.code_expired(pending.kind) if offered else None
        return Settled("expired", answer=late)
    if not offered:
        return Settled("declined", notice=texts.request_cancelled(pending.kind))
    if offered != [code]:
        return Settled("wrong_code", answer=texts.wrong_code(pending.kind))
    if _NO.intersection(words) or re.search(r"\bdon ?t\b", " ".join(words)):
        return Settled("declined", answer=texts.request_cancelled(pending.kind))
    ref = reference(pending.kind, pending.request_id)
    answer = (
        texts.erasure_confirmed(ref) if pending.kind == "erasure" else texts.export_confirmed(ref)
    )
    return Settled("confirmed", answer=answer, reference=ref)
