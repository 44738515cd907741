"""The roll marker that lets Kafka close, and so clean, a segment holding a key tombstone."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas.catalogue import COMPACTION_BOUND_MS, DATA_KEYS, HOUR_MS, ROLL_INTERVAL_MS, ROLL_KEY
from streams.runtime.keyed import KafkaKeyed


class RecordingTopic:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, **record: Any) -> asyncio.Future[None]:
        self.sent.append(record)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_a_roll_writes_one_valueless_marker_to_every_partition() -> None:
    topic = RecordingTopic()
    await KafkaKeyed(topic).roll(DATA_KEYS.partitions)  # type: ignore[arg-type]
    assert topic.sent == [
        {"key": ROLL_KEY, "value": None, "partition": p} for p in range(DATA_KEYS.partitions)
    ]


def test_the_bound_covers_segment_roll_marker_and_cleaner_lag() -> None:
    config = DATA_KEYS.config
    segment, lag = int(config["segment.ms"]), int(config["max.compaction.lag.ms"])
    assert segment + ROLL_INTERVAL_MS + lag == COMPACTION_BOUND_MS
    assert segment > ROLL_INTERVAL_MS
    assert COMPACTION_BOUND_MS <= 3 * HOUR_MS
