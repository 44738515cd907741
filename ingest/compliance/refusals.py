"""Refused attempts that are counted, not audited one by one. Pure.

Anyone can make the compliance API refuse them (a missing or forged key, a forged download
link, a client over its rate), as fast as the rate limit allows, so each one writing an
``audit_log`` row would let strangers fill the audit trail and load the database that the
webhooks of new contacts need. Instead they are counted per window, endpoint, reason and
the key they named (if any), and the counts are written a window at a time
(``audit_refusals``, see `ingest.compliance.recorder`). Memory is bounded: every part of a
count's identity comes from a fixed vocabulary or names a real key, and past
``max_entries`` distinct counts new ones are dropped (and the drops counted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

WINDOW_SECONDS = 60
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class RefusalCount:
    """Refusals of one kind in one window: a row of ``audit_refusals``."""

    window_start: datetime
    endpoint: str
    reason: str
    key_id: str  # "" when the attempt named no real key
    attempts: int


def window_start(now: float, window_seconds: int = WINDOW_SECONDS) -> datetime:
    """The start of the window ``now`` (unix seconds) falls in, aligned to the epoch so that
    every process counts into the same windows."""
    return datetime.fromtimestamp(now - now % window_seconds, UTC)


_Key = tuple[datetime, str, str, str]


class RefusalTally:
    def __init__(self, window_seconds: int = WINDOW_SECONDS, max_entries: int = MAX_ENTRIES):
        self.window_seconds = window_seconds
        self.max_entries = max_entries
        self.dropped = 0  # refusals not kept because the tally was full
        self._counts: dict[_Key, int] = {}

    def add(self, endpoint: str, reason: str, key_id: str, now: float, attempts: int = 1) -> None:
        key = (window_start(now, self.window_seconds), endpoint, reason, key_id)
        self._merge(key, attempts)

    def take(self) -> list[RefusalCount]:
        """Every count held, oldest window first; the tally is empty afterwards."""
        counts, self._counts = self._counts, {}
        return [RefusalCount(*key, attempts) for key, attempts in sorted(counts.items())]

    def give_back(self, counts: Iterable[RefusalCount]) -> None:
        """Counts taken but not written (the database was away): kept for the next write."""
        for count in counts:
            key = (count.window_start, count.endpoint, count.reason, count.key_id)
            self._merge(key, count.attempts)

    def __len__(self) -> int:
        return len(self._counts)

    def _merge(self, key: _Key, attempts: int) -> None:
        if key not in self._counts and len(self._counts) >= self.max_entries:
            self.dropped += attempts
            return
        self._counts[key] = self._counts.get(key, 0) + attempts
