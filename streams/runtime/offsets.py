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

    def __init__(self, start: int | None = None) -> None:
        """``start``: the partition's committed offset when the tracker begins, if known:
        offsets before it were handled already, offsets from it on must be taken first."""
        self._taken: deque[int] = deque()
        self._open: set[int] = set()
        self._done: set[int] = set()
        self._start = start
        self._first: int | None = None
        self._last: int | None = None
        # Half-open ranges of offsets passed over without a record (retention, a jump).
        self._skipped: list[tuple[int, int]] = []

    def take(self, offset: int) -> None:
        """A record starts; offsets come in increasing order. An offset passed over before
        cannot be taken later: its place in the release order is gone."""
        if self._last is not None and offset <= self._last:
            raise OffsetOrderError(f"offset {offset} taken after {self._last}")
        if self._start is not None and offset < self._start:
            raise OffsetOrderError(f"offset {offset} is before the start, {self._start}")
        following = self._start if self._last is None else self._last + 1
        if following is not None and offset > following:
            self._skipped.append((following, offset))
        self._taken.append(offset)
        self._open.add(offset)
        self._first = offset if self._first is None else self._first
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
        """Whether a record of ``offset`` was taken already, or the offset is before the
        start: read again after a seek, it is not run twice. False for an offset passed
        over: its record was never handled here."""
        if self._start is not None and offset < self._start:
            return True
        if self._first is None or self._last is None or not self._first <= offset <= self._last:
            return False
        return not any(low <= offset < high for low, high in self._skipped)

    @property
    def in_flight(self) -> int:
        """Taken and not released: running, waiting in a lane, or done behind a gap."""
        return len(self._taken)

    @property
    def oldest(self) -> int | None:
        """The offset a restart would read from (None when nothing is held)."""
        return self._taken[0] if self._taken else None
