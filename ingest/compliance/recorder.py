"""Writing counted refusals: a window's counts at a time, and what is left when ingest stops.

The counts live in memory (`ingest.compliance.refusals.RefusalTally`) and a task writes
them once a window while the app runs; the app's lifespan starts it and, on shutdown,
writes the rest before the database pool closes (`RecorderLifespan`). A write that fails
keeps the counts for the next one; the request path never waits on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.compliance.refusals import RefusalCount, RefusalTally

log = structlog.get_logger(__name__)

# How long shutdown waits for the last write before giving the counts up (and saying so).
STOP_TIMEOUT_SECONDS = 10.0


class RefusalLog(Protocol):
    async def write(self, counts: Sequence[RefusalCount]) -> None: ...


class RefusalRecorder:
    def __init__(
        self,
        log: RefusalLog,
        tally: RefusalTally | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log = log
        self.tally = tally or RefusalTally()
        self.clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def count(self, endpoint: str, reason: str, key_id: str = "") -> None:
        self.tally.add(endpoint, reason, key_id, self.clock())

    async def flush(self) -> None:
        """Write what has been counted; on failure keep it for the next write."""
        counts = self.tally.take()
        if self.tally.dropped:
            log.warning("refusal_counts_dropped", attempts=self.tally.dropped)
            self.tally.dropped = 0
        if not counts:
            return
        try:
            await self.log.write(counts)
        except asyncio.CancelledError:
            self.tally.give_back(counts)  # so that stop() reports them as lost
            raise
        except Exception as exc:
            self.tally.give_back(counts)
            log.warning("refusal_counts_not_written", counts=len(counts), error=type(exc).__name__)

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="refusal-recorder")

    async def stop(self) -> None:
        """Stop the task after a last write; what is still unwritten then (the database
        away, or slower than `STOP_TIMEOUT_SECONDS`) is logged as lost."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, STOP_TIMEOUT_SECONDS)
        lost = sum(count.attempts for count in self.tally.take())
        if lost:
            log.error("refusal_counts_lost", attempts=lost)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tally.window_seconds)
            await self.flush()


class RecorderLifespan:
    """ASGI middleware that runs a `RefusalRecorder` for as long as the app lives: started
    when the server starts the app, stopped (with a last write) when it shuts it down,
    before the app's own shutdown closes the database."""

    def __init__(self, app: ASGIApp, recorder: RefusalRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def observed() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.recorder.start()
            elif message["type"] == "lifespan.shutdown":
                await self.recorder.stop()
            return message

        await self.app(scope, observed, send)
