"""A deliberately broken ingest: it answers 200 before Kafka has the event.

It exists only so the fault suite can show its checker catches loss: the append is started
in the background and the webhook is answered at once, so whatever is in flight when the
process dies (or while the broker is gone) is lost after the provider was told it arrived.

    python -m tests.faults.broken_ingest --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import uvicorn

from ingest.app import build_ingest, create_app
from ingest.producer import EventLog, KafkaEventLog
from schemas.events import Event
from switchboard.settings import Settings


class AnswersFirst:
    """An event log whose append returns before the broker acknowledged anything."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    def connected(self) -> bool:
        return self.inner.connected()

    async def append(self, events: Sequence[Event]) -> None:
        task = asyncio.create_task(self.inner.append(events))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()
    kafka = KafkaEventLog(
        settings.kafka_bootstrap_servers,
        settings.switchboard_topic_prefix,
        # Long, so that an event in flight waits for the broker instead of failing fast.
        60.0,
    )
    app = create_app(build_ingest(settings, AnswersFirst(kafka)))
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
