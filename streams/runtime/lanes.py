"""Keyed lanes: the records of one partition, in offset order per key, many keys at once.

A conversation's records (one key) run strictly one after another, in offset order; records
of other conversations run beside them. Three bounds keep it safe:

- ``running``, shared by every partition of a process (``SWITCHBOARD_MAX_IN_FLIGHT``): how
  many records do work at the same moment;
- ``window``, per partition: how many records are held, running, waiting in their lane, or
  done behind an earlier one still running. When it is full, ``submit`` waits, the stream is
  not read, Faust's buffer fills and the partition's fetching pauses: memory stays bounded
  under any backlog, and lag shows the wait;
- offsets are released for acknowledgement only as the done prefix (`streams.runtime.
  offsets`), in offset order, so the commit never passes a record still running or parked.

A record whose work cannot finish now (a destination down) parks only its own lane: its
conversation's later records wait behind it, every other conversation keeps flowing, and the
partition's commit stays below it. ``close`` abandons what is in flight (a revoked partition,
a stopping worker): the handlers are idempotent, and the partition's next owner reads it
again from the committed offset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from streams.runtime.offsets import PartitionOffsets

T = TypeVar("T")
Work = Callable[[], Awaitable[None]]
Release = Callable[[Sequence[T]], Awaitable[None]]


class PartitionLanes(Generic[T]):
    def __init__(
        self,
        *,
        window: int,
        running: asyncio.Semaphore,
        release: Release[T],
        released: Callable[[int], None] = lambda count: None,
        start: int | None = None,
    ) -> None:
        if window < 1:
            raise ValueError("the window holds at least one record")
        self._room = asyncio.Semaphore(window)
        self._running = running
        self._release = release
        self._released = released  # told how many offsets each release let go
        self._offsets = PartitionOffsets(start)  # the committed offset, where reading began
        # Each held offset's record, and any copy of it read again meanwhile (a seek back):
        # every copy is acknowledged when the offset is released.
        self._items: dict[int, list[T]] = {}
        self._tails: dict[Hashable, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Releases are serialised, so acknowledgements leave in offset order.
        self._releasing = asyncio.Lock()
        self._failure: BaseException | None = None

    @property
    def held(self) -> int:
        """Records taken and not yet released."""
        return self._offsets.in_flight

    def taken(self, offset: int) -> bool:
        """Whether ``offset`` was taken already (or is before the start): a record read
        again is not run twice. An offset passed over is not taken: ``submit`` refuses it."""
        return self._offsets.taken(offset)

    async def again(self, offset: int, item: T) -> None:
        """A record taken before, read again (the partition was sent back to an earlier
        offset): not run twice, but acknowledged with its offset, now if that is released
        already. (A copy nobody acknowledges would hold the commit for good.)"""
        async with self._releasing:
            held = self._items.get(offset)
            if held is not None:
                held.append(item)
                return
            await self._release([item])

    async def submit(self, key: Hashable, offset: int, item: T, work: Work) -> None:
        """Queue ``work`` for ``item`` behind its key's earlier records; waits while the
        window is full. Raises what a lane's work raised, so the caller's actor fails."""
        self._raise_failure()
        await self._room.acquire()
        self._raise_failure()
        self._offsets.take(offset)
        self._items[offset] = [item]
        previous = self._tails.get(key)
        task = asyncio.create_task(self._run(key, offset, previous, work))
        self._tails[key] = task
        self._tasks.add(task)

    async def drain(self) -> None:
        """Wait until every record taken so far is released."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        self._raise_failure()

    def close(self) -> None:
        """Abandon every record in flight; nothing more is released. It does not wait for
        the lanes to wind down: it runs while the actor is being cancelled, and a second
        cancellation arriving during a wait would look like a crash to Faust."""
        for task in self._tasks:
            task.cancel()

    async def _run(
        self, key: Hashable, offset: int, previous: asyncio.Task[None] | None, work: Work
    ) -> None:
        current = asyncio.current_task()
        try:
            if previous is not None:
                await asyncio.wait({previous})
                if previous.cancelled() or self._failure is not None:
                    return  # the key's order is broken: nothing after it may run
            async with self._running:
                await work()
            async with self._releasing:
                released = self._offsets.finish(offset)
                if released:
                    await self._release([i for o in released for i in self._items.pop(o)])
                    self._released(len(released))
            for _ in released:
                self._room.release()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the actor through submit
            self._failure = self._failure or exc
        finally:
            if self._tails.get(key) is current:
                del self._tails[key]
            if current is not None:
                self._tasks.discard(current)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
