"""Admission of request bodies: how many bytes ingest holds at once, who may hold them, and
how long a body may take to arrive.

A body is read whole before its signature can be checked, so any client, signed or not, makes
ingest hold it until the request is answered. Reserving a body's declared length before a
byte arrived, with no read deadline, let 11 connections that declared 3 MB and sent one byte
refuse every other webhook for as long as they stayed open. The rules here are those of
mature servers (nginx's client_body_timeout, Apache's mod_reqtimeout minimum rate, Envoy's
buffer limits):

* bytes are charged as they arrive, never declared lengths ahead: a client that declares
  3 MB and sends one byte holds one byte;
* a share of the budget is kept for small bodies (a few KB: ordinary webhooks), which large
  bodies never use, so small ones are refused only when small ones alone fill it;
* each client may be sending only so many large bodies at once (429 beyond);
* a body must arrive whole within a deadline and, after a grace period, at a minimum
  average rate (`BodyPace`; 408 beyond).

Pure: the event loop is one thread and nothing awaits between a check and its update; the
caller reads the clock and the socket (ingest/body.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.errors import Busy, TooManyBodies

RETRY_AFTER_SECONDS = "1"  # bodies are held for milliseconds: room comes back quickly


@dataclass(frozen=True)
class BodyPace:
    """How long a body may take: the grace, then a second more for each `min_bytes_per_second`
    received (Apache's `body=grace,MinRate=rate`), never past `total_seconds`."""

    total_seconds: float = 10.0
    grace_seconds: float = 5.0
    min_bytes_per_second: float = 16384.0

    def due(self, received: int) -> float:
        """Seconds after the body began by which, having `received` bytes, it must have ended
        or received more."""
        return min(self.total_seconds, self.grace_seconds + received / self.min_bytes_per_second)

    def too_slow(self, received: int) -> str:
        """Why a body that had `received` bytes when it was due is refused."""
        if self.due(received) >= self.total_seconds:
            return f"request body not received within {self.total_seconds:g} s"
        return (
            f"request body arrived slower than {self.min_bytes_per_second:g} bytes/s "
            f"after the first {self.grace_seconds:g} s"
        )


@dataclass(frozen=True)
class BodyLimits:
    budget_bytes: int  # bytes of every body being read, together
    small_share: float  # of the budget, that only small bodies may use
    small_body_bytes: int  # a body is small while it neither declares nor holds more
    large_per_client: int  # large bodies one client may be sending at once

    @property
    def large_bytes(self) -> int:
        """What large bodies may hold together: the budget less the small bodies' share."""
        return self.budget_bytes - round(self.budget_bytes * self.small_share)

    def is_large(self, size: int | None) -> bool:
        return size is not None and size > self.small_body_bytes


class BodyBudget:
    def __init__(self, limits: BodyLimits) -> None:
        self.limits = limits
        self.held = 0  # bytes held by every body being read
        self.held_large = 0  # of which by large bodies
        self._large: dict[str, int] = {}  # large bodies being read, by client; none at 0

    @property
    def held_small(self) -> int:
        return self.held - self.held_large

    def large_bodies(self, client: str) -> int:
        return self._large.get(client, 0)

    def admit(self, client: str, declared: int | None) -> Reservation:
        """One body's reservation, holding no bytes yet. A body declared large takes one of
        its client's places for large bodies now, before it is read (TooManyBodies when
        none is left); one sent without a length takes it when it grows large."""
        reservation = Reservation(self, client)
        if self.limits.is_large(declared):
            reservation.grow(0, large=True)
        return reservation


class Reservation:
    """One body's share of the budget; `release` gives it all back (once)."""

    def __init__(self, budget: BodyBudget, client: str) -> None:
        self._budget = budget
        self.client = client
        self.size = 0
        self.large = False

    def grow(self, size: int, *, large: bool = False) -> None:
        """Hold `size` bytes (the body so far), as a large body if it is or was declared one.
        RequestRefused (Busy, TooManyBodies), it holds what it held before."""
        budget, limits = self._budget, self._budget.limits
        more = max(0, size - self.size)
        size = self.size + more
        becomes_large = not self.large and (large or limits.is_large(size))
        if becomes_large and budget.large_bodies(self.client) >= limits.large_per_client:
            raise TooManyBodies(
                f"more than {limits.large_per_client} large bodies at once from one client; "
                "retry later",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        if budget.held + more > limits.budget_bytes:
            raise Busy(
                "too many request bodies in flight; retry later",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        large_more = size if becomes_large else more if self.large else 0
        if budget.held_large + large_more > limits.large_bytes:
            raise Busy(
                "too many large bodies in flight; retry later",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        if becomes_large:
            self.large = True
            budget._large[self.client] = budget.large_bodies(self.client) + 1
        budget.held += more
        budget.held_large += large_more
        self.size = size

    def release(self) -> None:
        budget = self._budget
        budget.held -= self.size
        if self.large:
            budget.held_large -= self.size
            left = budget._large.pop(self.client) - 1
            if left:
                budget._large[self.client] = left
        self.size = 0
        self.large = False
