"""When a partition's commit is held back by a record nobody is handling, and what to do.

Offsets are committed only up to the first record not yet acknowledged (the head). If the
head was lost inside the consumer (dropped around a rebalance or a broker outage) while
later records were handled, nothing would ever acknowledge it: the commit would stay where
it is for good and the group's lag would grow with every record. Kafka cannot tell this
from slow work, so it is judged here from what the consumer holds, one partition at a
time, every few seconds:

- the head is handled, or nothing after it is: all is well;
- a record after the head was handled while the head is neither acknowledged nor being
  handled: the head is held; after ``patience`` seconds the partition is read again from the
  head, so the record is fetched and handled again (every agent is idempotent);
- still held after that re-read: if the head was read again, it is a record, and it is read
  again once more; if records past it were read but the head never came, its offset holds
  no record (compacted away, or a transaction marker), and the commit moves past it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class Head:
    """One partition's commit position, as the consumer holds it."""

    committed: int
    """The next offset the group would read: the first record not yet known handled."""
    lowest_acked: int | None
    """The lowest offset after ``committed`` handled so far, if any."""
    in_flight: bool
    """Some record from ``committed`` to ``lowest_acked`` is being handled."""
    head_read: bool
    """The head record was read since the partition was last read again from it."""
    read_past: bool
    """Records after the head were read since the partition was last read again from it."""


@dataclass(frozen=True)
class Held:
    """A head that stays unhandled: since when, and whether it was read again already."""

    committed: int
    since: float
    reread: bool = False


class CommitAction(enum.Enum):
    """What the watch does about a partition's commit on this look."""

    FINE = "fine"
    WAIT = "wait"
    REREAD = "reread"
    SKIP = "skip"


def is_held(head: Head) -> bool:
    return (
        head.lowest_acked is not None and head.lowest_acked > head.committed and not head.in_flight
    )


def judge(
    head: Head, held: Held | None, now: float, patience: float
) -> tuple[Held | None, CommitAction]:
    """What to do about one partition, and what to remember about it until next time."""
    if not is_held(head):
        return None, CommitAction.FINE
    if held is None or held.committed != head.committed:
        return Held(head.committed, now), CommitAction.WAIT
    if now - held.since < patience:
        return held, CommitAction.WAIT
    if not held.reread or head.head_read:
        return Held(head.committed, now, reread=True), CommitAction.REREAD
    if head.read_past:
        return None, CommitAction.SKIP
    return held, CommitAction.WAIT
