"""The log of steps the sender consults. Pure.

Every step goes through two states. Before its request is sent the step is marked
``attempting`` (with the time); once the provider accepted it, it becomes ``delivered``
(with the status code and the provider's id for it), and only then does the next step start.
An attempt that cannot have reached the provider takes its mark back (``not_sent``).

A resent action (after a crash, before the offset commit) skips every delivered step. A
step still ``attempting`` is the ambiguous one: the process that sent it may have died after
the provider accepted it and before it was marked delivered. The sender asks the provider
about such a step before sending it again (see ``sinks.outbound.sender``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

StepState = Literal["attempting", "delivered"]


@dataclass(frozen=True)
class StepRecord:
    """What the log holds about one step of an action.

    ``attempted_at`` is when the step was last marked ``attempting``: the provider cannot have
    created a message for it much before then. It matters only while the step is attempting
    (None for a step recorded without an attempt, and in the in-memory log once delivered).
    ``status_code`` is None for a step found at the provider rather than answered by it.
    """

    step: str
    state: StepState
    attempted_at: datetime | None = None
    status_code: int | None = None
    provider_id: str | None = None

    @property
    def delivered(self) -> bool:
        return self.state == "delivered"


class DeliveryLog(Protocol):
    """Which steps of an action are being attempted, and which the providers accepted."""

    async def steps(self, action_id: str) -> dict[str, StepRecord]:
        """Every step of ``action_id`` the log knows of, by step name."""
        ...

    async def attempting(self, action_id: str, step: str) -> None:
        """Mark ``step`` as about to be sent (again), unless it is already delivered; this
        must be durable before the request goes out."""
        ...

    async def not_sent(self, action_id: str, step: str) -> None:
        """Take back the ``attempting`` mark of ``step``: its attempt cannot have reached the
        provider (no connection, or an answer that it did not act), so the next attempt need
        not ask the provider first. A delivered step stays delivered."""
        ...

    async def record(
        self, action_id: str, step: str, status_code: int | None, provider_id: str | None
    ) -> None:
        """Mark ``step`` delivered. The first delivery of a step wins; later ones change
        nothing."""
        ...


@dataclass(frozen=True)
class Delivery:
    action_id: str
    step: str
    status_code: int | None
    provider_id: str | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class InMemoryDeliveryLog:
    """A `DeliveryLog` for tests, with the PostgreSQL log's rules: the first delivery of a
    step wins, and a delivered step is never marked attempting again.

    ``deliveries`` holds the delivered steps, ``attempts`` the steps marked attempting and not
    (yet) delivered, with the time of the last mark.
    """

    deliveries: dict[tuple[str, str], Delivery] = field(default_factory=dict)
    attempts: dict[tuple[str, str], datetime] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=_utcnow, repr=False)

    async def steps(self, action_id: str) -> dict[str, StepRecord]:
        found = {
            step: StepRecord(step, "attempting", attempted_at=at)
            for (action, step), at in self.attempts.items()
            if action == action_id
        }
        for (action, step), delivery in self.deliveries.items():
            if action == action_id:
                found[step] = StepRecord(
                    step, "delivered", None, delivery.status_code, delivery.provider_id
                )
        return found

    async def attempting(self, action_id: str, step: str) -> None:
        if (action_id, step) not in self.deliveries:
            self.attempts[(action_id, step)] = self.clock()

    async def not_sent(self, action_id: str, step: str) -> None:
        self.attempts.pop((action_id, step), None)

    async def record(
        self, action_id: str, step: str, status_code: int | None, provider_id: str | None
    ) -> None:
        if (action_id, step) in self.deliveries:
            return
        self.attempts.pop((action_id, step), None)
        self.deliveries[(action_id, step)] = Delivery(action_id, step, status_code, provider_id)
