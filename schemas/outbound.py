"""The outbound side in the domain's words: where a call goes, and how sending an action
ended. Pure.

The sender and its circuits (sinks/outbound/) produce these; the worker's delivery agent,
flow and metrics (streams/) read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Destination:
    """One Chatwoot account, one WhatsApp business number (Cloud API or 360dialog), or the
    chat model's endpoint, named by kind and the business's own id, never a customer's."""

    kind: Literal["chatwoot", "whatsapp", "360dialog", "model"]
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


Outcome = Literal["delivered", "refused"]


@dataclass(frozen=True)
class DeliveryResult:
    """How sending one action ended.

    * ``delivered``: every step is done (now or earlier); commit the offset.
    * ``refused``: a provider rejected a step (a 4xx other than 408/425/429), or the action
      cannot be sent at all; dead-letter it and hand the conversation to a person.

    A round that fails in a way worth another try (a timeout, 5xx, 429) ends in neither: the
    sender raises `switchboard.retrying.RetryLater`, and the record's policy sends the action
    again.
    """

    outcome: Outcome
    reason: str | None = None
    step: str | None = None

    @classmethod
    def delivered(cls) -> DeliveryResult:
        return cls("delivered")

    @classmethod
    def refused(cls, reason: str, step: str | None = None) -> DeliveryResult:
        return cls("refused", reason, step)

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"
