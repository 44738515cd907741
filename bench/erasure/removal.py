"""Physical removal: on a scratch compacted topic with short settings, a value is written and
tombstoned, and the broker's segment files are read until its bytes are gone."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.erasure.rig import Rig

SCRATCH = {
    "cleanup.policy": "compact",
    "segment.ms": "2000",
    "max.compaction.lag.ms": "2000",
    "min.compaction.lag.ms": "0",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "2000",
}

# The broker's defaults (server.properties sets neither): the cleaner sleeps this long when it
# found nothing to clean, and a cleaned segment's old file is renamed `*.deleted` and only
# removed this long after.
CLEANER_BACKOFF_MS = 15_000
FILE_DELETE_DELAY_MS = 60_000
WATCH_EVERY_SECONDS = 0.5  # a filler record, then a look at the files


def scratch_bound_s() -> float:
    """When a tombstoned value must be off the disk on the scratch topic, in seconds."""
    ms_ = int(SCRATCH["segment.ms"]) + int(SCRATCH["max.compaction.lag.ms"])
    return (ms_ + CLEANER_BACKOFF_MS + FILE_DELETE_DELAY_MS) / 1000


@dataclass(frozen=True)
class Removal:
    """Seconds from the tombstone until ..."""

    compacted: float | None  # ... no live segment (`*.log`) holds the value
    value_gone: float | None  # ... no file at all holds it (nor a `*.deleted` one)
    tombstone_gone: float | None  # ... no file holds the key any more
    watched: float
    folder: str


def holds(folder: Path, needle: bytes, *, deleted: bool) -> bool:
    """Whether a segment file holds the bytes; `deleted`: count files awaiting deletion."""
    for path in folder.iterdir():
        if ".index" in path.name or ".timeindex" in path.name:
            continue
        if path.name.endswith(".deleted") and not deleted:
            continue
        try:
            if needle in path.read_bytes():
                return True
        except OSError:
            continue  # the cleaner renamed or removed it meanwhile
    return False


async def scratch_topic(rig: Rig) -> str:
    topic = f"{rig.names.prefix}scratch-compaction"
    admin = AIOKafkaAdminClient(bootstrap_servers=rig.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=SCRATCH)])
    finally:
        await admin.close()
    return topic


async def physical_removal(rig: Rig, data_dir: Path, seconds: float) -> Removal:
    """A value written and tombstoned; its bytes, then its key's, watched leaving the files."""
    topic = await scratch_topic(rig)
    folder = data_dir / f"{topic}-0"
    key, value = f"bench-key-{uuid.uuid4().hex}".encode(), f"VALUE-{uuid.uuid4().hex}".encode()
    await rig.producer.send_and_wait(topic, value, key=key)
    await rig.producer.send_and_wait(topic, None, key=key)
    started = time.perf_counter()
    compacted = value_gone = tombstone_gone = None
    n = 0
    while time.perf_counter() - started < seconds and tombstone_gone is None:
        # Segments roll only on an append after segment.ms: keep a trickle of other keys.
        n += 1
        await rig.producer.send_and_wait(topic, b"filler", key=f"filler-{n % 3}".encode())
        await asyncio.sleep(WATCH_EVERY_SECONDS)
        elapsed = time.perf_counter() - started
        if compacted is None and not holds(folder, value, deleted=False):
            compacted = elapsed
        if value_gone is None and not holds(folder, value, deleted=True):
            value_gone = elapsed
        if value_gone is not None and not holds(folder, key, deleted=True):
            tombstone_gone = elapsed
    watched = time.perf_counter() - started
    return Removal(compacted, value_gone, tombstone_gone, watched, str(folder))
