"""What a scenario measured, as a row of the report: the time until every customer had a
reply, and for the slow model the effective concurrency it shows."""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness.report import number

MODEL_DELAY = 1.0  # the chat-model stand-in answers every call after this many seconds
WAIT_SECONDS = 240.0
# While the Graph API is down the target is 10 s; past a minute, "not answered" says it all.
DOWN_WAIT_SECONDS = 60.0

SLOW = "slow model"
DOWN = "Graph API down: every Chatwoot customer answered"
BACK = "then Graph API back: every WhatsApp customer answered"


def slow_scenario(count: int) -> str:
    return f"{SLOW}, N={count}"


@dataclass
class Row:
    variant: str
    scenario: str
    customers: int
    seconds: float | None  # None: not all answered within ``limit``
    cpu_ms_per_message: float | None = None
    limit: float = WAIT_SECONDS

    @property
    def concurrency(self) -> float | None:
        if self.seconds is None or not self.scenario.startswith(SLOW):
            return None
        return self.customers * MODEL_DELAY / self.seconds

    @property
    def time(self) -> str:
        return seconds_cell(self.seconds, self.limit)


def seconds_cell(seconds: float | None, limit: float = WAIT_SECONDS) -> str:
    return f"not within {limit:g} s" if seconds is None else f"{number(seconds, 2)} s"
