"""Which offsets of a partition may be acknowledged: the done prefix, never past a gap. Pure.

Records of one partition are taken for work in offset order and may finish in any order
(different conversations run at once). An offset is released, to be acknowledged and so
committed, only when it and every offset taken before it are done: the lowest contiguous
completed offset, as Confluent's Parallel Consumer and Sentry's queue pool commit.

Releasing in order is what makes Faust's own commit arithmetic safe: it only ever sees
acknowledgements in offset order, so a head record still running can never be committed past
(faust-streaming #606, an off-by-one in ``Consumer._new_offset``). A crash loses only the
tracker; the partition is read again from the last released offset, and the handlers are
idempotent.
"""

from __future__ import annotations

from collections import deque


class OffsetOrderError(ValueError):
    """An offset taken out of order, twice, or finished without being taken: a wiring bug."""


class PartitionOffsets:
    """The offsets of one partition that were taken and not yet released."""

    def __init__(self) -> None:
        self._taken: deque[int] = deque()
        self._open: set[int] = set()
        self._done: set[int] = set()
        self._last: int | None = None

    def take(self, offset: int) -> None:
        """A record starts; offsets come in increasing order (gaps are fine)."""
        if self._taken and offset <= self._taken[-1]:
            raise OffsetOrderError(f"offset {offset} taken after {self._taken[-1]}")
        self._taken.append(offset)
        self._open.add(offset)
        self._last = offset

    def finish(self, offset: int) -> list[int]:
        """A record is done; the offsets released by it, in order (often none)."""
        if offset not in self._open:
            raise OffsetOrderError(f"offset {offset} finished but not in flight")
        self._open.discard(offset)
        self._done.add(offset)
        released = []
        while self._taken and self._taken[0] in self._done:
            head = self._taken.popleft()
            self._done.discard(head)
            released.append(head)
        return released

    def taken(self, offset: int) -> bool:
        """Whether ``offset`` was taken already (read again after a seek: skip it)."""
        return self._last is not None and offset <= self._last

    @property
    def in_flight(self) -> int:
        """Taken and not released: running, waiting in a lane, or done behind a gap."""
        return len(self._taken)

    @property
    def oldest(self) -> int | None:
        """The offset a restart would read from (None when nothing is held)."""
        return self._taken[0] if self._taken else None
