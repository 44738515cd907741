"""How many bytes of request bodies ingest holds at once, across all requests.

A body is read whole before its signature can be checked, so any client, signed or not,
makes ingest hold up to the size limit (3 MB) until its request is answered. Without a
bound, a flood of large bodies arriving together costs a multiple of the limit in memory
and stalls the event loop that answers everyone else (bench/overload.py). Each request
reserves its bytes here before it reads them: the declared length at once, a body without
one as it arrives. When the budget is spent the request is answered 503 with Retry-After
at once, before its body is read; small requests keep flowing, since they need little.

Pure: the event loop is one thread, and nothing awaits between a check and its update.
"""

from __future__ import annotations

from ingest.errors import Busy

RETRY_AFTER_SECONDS = "1"  # bodies are held for milliseconds: room comes back quickly


class BodyBudget:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.held = 0  # bytes reserved by requests not yet answered

    def reserve(self) -> Reservation:
        return Reservation(self)


class Reservation:
    """One request's share of the budget; `release` gives it all back (once)."""

    def __init__(self, budget: BodyBudget) -> None:
        self._budget = budget
        self.size = 0

    def ensure(self, size: int) -> None:
        """Hold at least `size` bytes, or raise Busy (holding no more than before)."""
        more = size - self.size
        if more <= 0:
            return
        if self._budget.held + more > self._budget.limit:
            raise Busy(
                "too many large bodies in flight; retry later",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        self._budget.held += more
        self.size = size

    def release(self) -> None:
        self._budget.held -= self.size
        self.size = 0
