"""A run's own Kafka names and topics, a producer configured as ingest's, a consumer group
started at a topic's end, and where the running broker keeps its files."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bench.harness.errors import BenchError
from ingest.producer import MAX_BATCH_BYTES, Record
from schemas.catalogue import Topic
from schemas.position import Position
from streams import topics
from switchboard.settings import Settings


@dataclass(frozen=True)
class Names:
    """Every name this run creates starts with `<label>-<run>`, so it can be removed."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    label: str = "bench-flow"

    @property
    def stem(self) -> str:
        return f"{self.label}-{self.run}"

    @property
    def prefix(self) -> str:
        return f"{self.stem}."

    @property
    def worker_group(self) -> str:
        return f"{self.stem}-worker"

    def ceiling_group(self, mode: str) -> str:
        return f"{self.stem}-ceiling-{mode}"

    def topic(self, topic: Topic) -> str:
        return topic.full_name(self.prefix)


async def apply_topics(settings: Settings, names: Names, extra: Sequence[Topic] = ()) -> None:
    """The catalogue's topics under the run's prefix, and `extra` topics of its own."""
    bootstrap = settings.kafka_bootstrap_servers
    replication = settings.switchboard_kafka_replication_factor
    try:
        await topics.apply(bootstrap, names.prefix, replication)
        if extra:
            await topics.apply(bootstrap, names.prefix, replication, list(extra))
    except KafkaError as exc:
        raise BenchError(f"Kafka at {bootstrap}: {exc}; is `switchboard stack up` done?") from exc


async def remove_topics(settings: Settings, names: Names) -> list[str]:
    """Every topic of this run: the catalogue's, its own and Faust's."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(names.stem)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()


def kafka_producer(settings: Settings, *, linger_ms: int = 1) -> AIOKafkaProducer:
    """Configured as ingest's own producer (acks=all, idempotent, room in a batch for a
    round trip's sends); a longer ``linger_ms`` for a run that fills topics in bulk."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=MAX_BATCH_BYTES,
    )


async def produce(producer: AIOKafkaProducer, records: Sequence[Record]) -> list[Position]:
    """Every record sent, then every acknowledgement awaited together; where each landed."""
    sent = [
        await producer.send(r.topic, key=r.key, value=r.value, headers=r.headers) for r in records
    ]
    metas = await asyncio.gather(*sent)
    return [Position(m.topic, m.partition, m.offset) for m in metas]


async def start_at_end(settings: Settings, group: str, topic: Topic) -> None:
    """`group` committed at the end of every partition of `topic`: it starts after what the
    topic holds now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        name = topic.full_name(settings.switchboard_topic_prefix)
        partitions = [TopicPartition(name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends))
    finally:
        await consumer.stop()


def broker_data_dir(override: Path | None = None) -> Path | None:
    """Where the running broker keeps its segment files: `override`, else the first of the
    `log.dirs` in the server.properties its command line names; None if not found."""
    if override is not None:
        return override
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if "kafka.Kafka" in argv:
            config = Path(argv[argv.index("kafka.Kafka") + 1])
            for line in config.read_text().splitlines():
                if line.startswith("log.dirs="):
                    return Path(line.split("=", 1)[1].split(",")[0])
    return None
