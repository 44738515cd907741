"""When a destination may be called: a circuit breaker and a rate limit each. Pure.

A destination is one Chatwoot account, one WhatsApp business number (Cloud API or
360dialog), or the chat model's endpoint, named by kind and the business's own id (the
model's name), never a customer's.

- The circuit opens after ``threshold`` failures in a row (timeouts, no connection, 429,
  5xx), and then lets nothing through for a cool-down that doubles while the destination
  keeps failing (``base`` to ``cap`` seconds, at least what a ``Retry-After`` asked for).
  After the cool-down one probe goes through (half open): success closes the circuit,
  failure opens it again. While it is open, the actions waiting for it wait in their own
  conversations' lanes without calling: a destination that is down is not hammered by every
  conversation retrying on its own.
- A token bucket keeps the calls within the provider's rate: WhatsApp Cloud's 80 messages
  a second per business number by default, Chatwoot's rack-attack 3,000 requests a minute
  per client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half_open"]

# How soon a caller asks again while a probe it may not join is under way.
PROBE_POLL_SECONDS = 0.2


@dataclass
class Circuit:
    threshold: int = 5
    base: float = 1.0
    # A destination that stays down gets a probe every 5 s: nothing to it, and one that
    # is back is found within seconds (a longer cap kept replies waiting long after).
    cap: float = 5.0
    state: State = "closed"
    failures: int = 0
    cooldown: float = 0.0
    opened_at: float = 0.0
    probing: bool = False

    def wait(self, now: float) -> float:
        """Seconds before a call may go; 0 lets this one go (as the probe, when half open)."""
        if self.state == "closed":
            return 0.0
        if self.state == "open":
            left = self.opened_at + self.cooldown - now
            if left > 0:
                return left
            self.state = "half_open"
        if self.probing:
            return PROBE_POLL_SECONDS
        self.probing = True
        return 0.0

    def succeeded(self) -> State:
        """The destination answered; the state after it."""
        self.state, self.failures, self.cooldown, self.probing = "closed", 0, 0.0, False
        return self.state

    def failed(self, now: float, retry_after: float | None = None) -> State:
        """The destination failed (or asked us to wait); the state after it. Calls that
        were under way when the circuit opened fail too: they leave it as it is."""
        self.failures += 1
        if self.state == "open":
            return self.state
        if self.state == "half_open" or self.failures >= self.threshold:
            self.probing = False
            self.cooldown = min(self.cap, max(self.base, self.cooldown * 2))
            self.cooldown = max(self.cooldown, retry_after or 0.0)
            self.state, self.opened_at = "open", now
        return self.state


@dataclass
class TokenBucket:
    """``rate`` calls a second on average, at most ``burst`` at once."""

    rate: float
    burst: float
    # Below zero: tokens promised to callers still waiting for them.
    tokens: float | None = None
    updated: float = 0.0

    def delay(self, now: float) -> float:
        """Take a token; seconds to wait before using it (0 when one was free)."""
        if self.tokens is None:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
