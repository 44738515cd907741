"""Each destination's circuit and rate limit, shared by every action a worker sends.

`sinks.outbound.circuit` holds the rules; this is where callers wait on them. A destination's
state changes are logged (``outbound_circuit_opened`` / ``outbound_circuit_closed``) and told
to ``changed``, for the circuit gauge.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from schemas.events import ChatwootRoute
from schemas.outbound import Destination
from sinks.outbound.circuit import Circuit, State, TokenBucket
from sinks.outbound.requests import Action

log = structlog.get_logger(__name__)

# Chatwoot's default rack-attack limit is per client address: one bucket a worker would
# need the whole budget; the worker keeps to it per account.
CHATWOOT_BURST = 50.0
WHATSAPP_BURST = 80.0


def destination_of(action: Action) -> Destination:
    """Where an action goes: the Chatwoot account, or the WhatsApp business number."""
    route = action.data.route
    if isinstance(route, ChatwootRoute):
        return Destination("chatwoot", str(route.account_id))
    if action.data.source == "360dialog":
        return Destination("360dialog", route.phone_number_id)
    return Destination("whatsapp", route.phone_number_id)


class Guard:
    def __init__(
        self,
        *,
        whatsapp_per_second: float = 80.0,
        chatwoot_per_minute: float = 3000.0,
        failures: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        changed: Callable[[Destination, State], None] = lambda destination, state: None,
    ) -> None:
        self.rates = {
            "whatsapp": (whatsapp_per_second, WHATSAPP_BURST),
            "360dialog": (whatsapp_per_second, WHATSAPP_BURST),
            "chatwoot": (chatwoot_per_minute / 60.0, CHATWOOT_BURST),
        }
        self.failures = failures
        self.clock = clock
        self.sleep = sleep
        self.changed = changed
        self._circuits: dict[Destination, Circuit] = {}
        self._buckets: dict[Destination, TokenBucket] = {}

    def circuit(self, destination: Destination) -> Circuit:
        found = self._circuits.get(destination)
        if found is None:
            found = self._circuits[destination] = Circuit(threshold=self.failures)
        return found

    async def admit(self, destination: Destination) -> None:
        """Return when a call to ``destination`` may go: its circuit lets it, and its rate."""
        circuit = self.circuit(destination)
        while (wait := circuit.wait(self.clock())) > 0:
            await self.sleep(wait)
        bucket = self._buckets.get(destination)
        if bucket is None:
            rate, burst = self.rates[destination.kind]
            bucket = self._buckets[destination] = TokenBucket(rate, burst)
        if (wait := bucket.delay(self.clock())) > 0:
            await self.sleep(wait)

    def may_call(self, destination: Destination) -> bool:
        """Whether a call to ``destination`` may go now, without waiting: for callers that
        have something better to do than wait (the flow hands off when the model is down)."""
        return self.circuit(destination).wait(self.clock()) == 0

    def answered(
        self, destination: Destination, ok: bool, retry_after: float | None = None
    ) -> None:
        """How a call went: ``ok`` when the destination answered for itself (2xx, or a
        refusal of the request), not when it failed or asked us to slow down."""
        circuit = self.circuit(destination)
        before = circuit.state
        after = circuit.succeeded() if ok else circuit.failed(self.clock(), retry_after)
        if after == before or (before, after) == ("open", "half_open"):
            return
        if after == "open" and before != "open":
            log.warning(
                "outbound_circuit_opened",
                destination=str(destination),
                failures=circuit.failures,
                cooldown_seconds=round(circuit.cooldown, 1),
            )
            self.changed(destination, after)
        elif after == "closed":
            log.info("outbound_circuit_closed", destination=str(destination))
            self.changed(destination, after)

    def open_circuits(self) -> list[Destination]:
        return [d for d, _ in self.not_closed()]

    def not_closed(self) -> list[tuple[Destination, State]]:
        """Destinations whose calls are held back (open) or probed (half open)."""
        # A copy first: the worker's health endpoint reads this from its own thread.
        return [(d, c.state) for d, c in list(self._circuits.items()) if c.state != "closed"]
