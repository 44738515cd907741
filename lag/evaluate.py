"""Burrow's lag evaluation, as plain functions over a window of samples.

A *sample* is what one look at the broker shows for one (group, topic, partition): when it
was taken, the group's committed offset, the log-end offset (high watermark), the lag in
seconds, and whether a live member of the group holds the partition. A *window* is the
samples of one partition, oldest first, over the last few minutes.

Lag in messages is ``log_end - committed``. Lag in seconds is the age of the oldest record
the group has not consumed: ``now - timestamp(record at the committed offset)`` while the
lag is positive, and 0 when the group is caught up (see `lag_seconds`). It grows by one
second a second while a consumer is stopped, whatever the arrival rate, which is what ops
alert on (kafka-lag-exporter's "time lag").

The status of a partition follows Burrow's rules, checked in this order over the window:

1. **OK** when the window is empty or the newest sample has no lag: a caught-up partition
   is never in error.
2. **STOP** when no live member holds the partition and the committed offset has not moved
   for at least ``stop_after`` seconds (judged from the samples that show the current offset;
   with ``stop_after=0`` one sample suffices): messages wait and nobody is there to read
   them. Burrow sees this as "no commits for a window"; we see the group's membership
   directly, which is sharper than commit timestamps we cannot read.
3. **OK** when the lag was zero in any sample of the window: the group caught up lately.
4. **REWIND** when the committed offset went backwards between two samples (a reset, a
   replay, or a consumer committing stale offsets).
5. **STALL** when there are at least two samples, the lag is positive in all of them and the
   committed offset did not move: a consumer is there (or only just left) but makes no
   progress, e.g. a poison record retried forever or a sink that holds the partition.
6. **WARN** when the offsets move but the lag grows: it never shrank between two samples
   and is larger at the end of the window than at its start (the consumer is falling
   behind). Burrow also warns for a lag that stays exactly level; we do not, since a
   backlog worked at the arrival rate is not falling behind.
7. **OK** otherwise.

A group's status is its worst partition's. The numeric codes are Burrow's, so dashboards
built for Burrow read them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import pairwise


class Status(IntEnum):
    """Burrow's status constants; a larger code is worse."""

    NOTFOUND = 0
    OK = 1
    WARN = 2
    ERR = 3
    STOP = 4
    STALL = 5
    REWIND = 6


@dataclass(frozen=True)
class Sample:
    time: float  # Unix seconds when the offsets were read
    committed: int
    log_end: int
    lag_seconds: float | None = None  # None: the record's timestamp could not be read
    assigned: bool = False  # a live member of the group holds this partition

    @property
    def lag(self) -> int:
        # A committed offset past the log end (a truncated or recreated topic) is no lag.
        return max(0, self.log_end - self.committed)


def lag_seconds(lag: int, record_timestamp: float | None, now: float) -> float | None:
    """Age of the oldest unconsumed record: 0 when caught up, None when its time is unknown.

    ``record_timestamp`` is the timestamp of the record at the committed offset (the next
    one the group will read). If retention already deleted it, the first record still there
    is used, so the figure is then a lower bound. A clock ahead of ours never gives a
    negative age.
    """
    if lag <= 0:
        return 0.0
    if record_timestamp is None:
        return None
    return max(0.0, now - record_timestamp)


def _unmoved(window: Sequence[Sample]) -> Sequence[Sample]:
    """The trailing samples that all show the newest committed offset."""
    start = len(window) - 1
    while start > 0 and window[start - 1].committed == window[-1].committed:
        start -= 1
    return window[start:]


def is_stopped(window: Sequence[Sample], stop_after: float) -> bool:
    run = _unmoved(window)
    if any(s.assigned or s.lag == 0 for s in run):
        return False
    return run[-1].time - run[0].time >= stop_after


def is_rewinding(window: Sequence[Sample]) -> bool:
    return any(b.committed < a.committed for a, b in pairwise(window))


def is_stalled(window: Sequence[Sample]) -> bool:
    return len(window) >= 2 and all(s.committed == window[0].committed for s in window)


def is_falling_behind(window: Sequence[Sample]) -> bool:
    pairs = list(pairwise(window))
    return (
        len(window) >= 2
        and window[-1].committed > window[0].committed
        and all(b.lag >= a.lag for a, b in pairs)
        and window[-1].lag > window[0].lag
    )


def evaluate(window: Sequence[Sample], *, stop_after: float = 0.0) -> Status:
    """The status of one partition over its window (oldest sample first); see the module."""
    if not window or window[-1].lag == 0:
        return Status.OK
    if is_stopped(window, stop_after):
        return Status.STOP
    if any(s.lag == 0 for s in window):
        return Status.OK
    if is_rewinding(window):
        return Status.REWIND
    if is_stalled(window):
        return Status.STALL
    if is_falling_behind(window):
        return Status.WARN
    return Status.OK


def worst(statuses: Iterable[Status]) -> Status:
    """A group's status: its worst partition's; NOTFOUND for a group with no partitions."""
    return max(statuses, default=Status.NOTFOUND)
