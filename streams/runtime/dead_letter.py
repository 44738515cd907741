"""Parking records the worker cannot process, with the reason, so one bad record never
stops a conversation and nothing is silently dropped."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from streams.runtime.types import KafkaTopic, Record

log = structlog.get_logger(__name__)


class DeadLetters:
    def __init__(
        self, topic: KafkaTopic, counted: Callable[[str], None] = lambda reason: None
    ) -> None:
        self.topic = topic
        self.counted = counted

    async def send(self, record: Record, reason: str) -> None:
        """Copy the record to the dead-letter topic; returns once Kafka acknowledged it."""
        message = record.message
        log.error(
            "dead_letter",
            reason=reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )
        sent = await self.topic.send(
            key=message.key,
            value=message.value,
            headers={
                "reason": reason.encode(),
                "source-topic": message.topic.encode(),
                "source-partition": str(message.partition).encode(),
                "source-offset": str(message.offset).encode(),
            },
        )
        await sent
        self.counted(reason)
