"""What the sender reports, and the log of delivered steps it consults. Pure.

A step is recorded only after the provider accepted it, and before the next step starts;
a resent action (after a crash, before the offset commit) skips every recorded step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


class DeliveryLog(Protocol):
    """Which steps of an action the providers already accepted."""

    async def done_steps(self, action_id: str) -> set[str]: ...

    async def record(
        self, action_id: str, step: str, status_code: int, provider_id: str | None
    ) -> None: ...


@dataclass(frozen=True)
class Delivery:
    action_id: str
    step: str
    status_code: int
    provider_id: str | None


@dataclass
class InMemoryDeliveryLog:
    """A `DeliveryLog` for tests; the first record of a step wins, as in PostgreSQL."""

    deliveries: dict[tuple[str, str], Delivery] = field(default_factory=dict)

    async def done_steps(self, action_id: str) -> set[str]:
        return {step for (action, step) in self.deliveries if action == action_id}

    async def record(
        self, action_id: str, step: str, status_code: int, provider_id: str | None
    ) -> None:
        delivery = Delivery(action_id, step, status_code, provider_id)
        self.deliveries.setdefault((action_id, step), delivery)


Outcome = Literal["delivered", "refused", "gave_up"]


@dataclass(frozen=True)
class DeliveryResult:
    """How sending one action ended.

    * ``delivered``: every step is done (now or earlier); commit the offset.
    * ``refused``: a provider rejected a step (a 4xx other than 408/425/429), or the action
      cannot be sent at all; dead-letter it and hand the conversation to a person.
    * ``gave_up``: retries ran out on timeouts, 5xx or 429; ``reason`` is the last failure.
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

    @classmethod
    def gave_up(cls, reason: str, step: str | None = None) -> DeliveryResult:
        return cls("gave_up", reason, step)

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"
