"""Items added by many callers at once, written together: one write a batch.

A caller adds its item and waits until the batch holding it is written; a batch is written
when it holds ``size`` items or ``within`` seconds after its first, whichever comes first.
Batches are written one at a time, in the order they were opened, so items keep the order
they were added in across batches. A failed write fails every caller of that batch; a
cancelled caller leaves its batch alone (its item is written with the others).

The storage agent uses it with keyed lanes (`streams.runtime.lanes`): every record of a
partition window is added at once, PostgreSQL gets one transaction for hundreds of rows
instead of one each (`bench.sink`), and each record is acknowledged, in offset order,
once its batch is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Batch(Generic[T]):
    items: list[T] = field(default_factory=list)
    written: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    closed: bool = False


class Batches(Generic[T]):
    def __init__(
        self, write: Callable[[list[T]], Awaitable[None]], *, size: int, within: float
    ) -> None:
        self._write = write
        self.size = size
        self.within = within
        self._open: _Batch[T] | None = None
        self._in_order = asyncio.Lock()  # fair: batches are written in the order they closed
        self._writers: set[asyncio.Task[None]] = set()

    async def add(self, item: T) -> None:
        """Return once ``item`` is written; raise what its batch's write raised."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            # Its callers may all be gone (a revoked partition): nobody else reads a failure.
            batch.written.add_done_callback(lambda done: done.cancelled() or done.exception())
            asyncio.get_running_loop().call_later(self.within, self._close, batch)
        batch.items.append(item)
        if len(batch.items) >= self.size:
            self._close(batch)
        await asyncio.shield(batch.written)

    def _close(self, batch: _Batch[T]) -> None:
        if batch.closed:
            return
        batch.closed = True
        if self._open is batch:
            self._open = None
        task = asyncio.create_task(self._flush(batch))
        self._writers.add(task)
        task.add_done_callback(self._writers.discard)

    async def _flush(self, batch: _Batch[T]) -> None:
        async with self._in_order:
            try:
                await self._write(batch.items)
            except BaseException as exc:
                batch.written.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                batch.written.set_result(None)
