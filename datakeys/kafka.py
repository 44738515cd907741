"""The data-keys and erasures topics, read whole into memory and followed, with plain aiokafka.

No consumer group: every process reads every partition from the beginning (both topics are
compacted, so that is one record per contact), then keeps following. A tombstone on
data-keys drops the contact's key from memory as soon as it is read. Records are applied
synchronously right after each fetch, so a consumer position always means "applied".
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from datakeys.errors import KeyUnavailableError
from datakeys.log import Erasure, decode_erasure
from schemas.catalogue import DATA_KEYS, ERASURES
from schemas.sealing import SealError, WrappedKey, decode_wrapped, encode_wrapped
from sinks.kafka.errors import KAFKA_FAILURES
from switchboard.retrying import backoff, retrying

log = structlog.get_logger(__name__)


class KafkaKeyLog:
    def __init__(
        self,
        bootstrap_servers: str,
        topic_prefix: str,
        timeout_seconds: float,
        start_timeout_seconds: float = 15.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._start_timeout = start_timeout_seconds
        self._keys_topic = DATA_KEYS.full_name(topic_prefix)
        self._erasures_topic = ERASURES.full_name(topic_prefix)
        self._timeout = timeout_seconds
        self._keys: dict[str, WrappedKey] = {}
        self._erasures: dict[str, Erasure] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._producer: AIOKafkaProducer | None = None
        self._producer_lock = asyncio.Lock()
        # Where reading stands per partition, kept across reconnects so that a new consumer
        # resumes there instead of re-reading (and briefly resurrecting shredded keys).
        self._next: dict[TopicPartition, int] = {}
        self._connected = asyncio.Event()
        self._read_once = False
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- reading ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start reading; wait (bounded) until both topics are read to their current end.

        A broker that is not there is not fatal: reading starts when it appears, and until
        then every lookup that misses raises KeyUnavailableError.
        """
        self._task = asyncio.create_task(self._follow(), name="key-log")
        # Longer than a lookup may wait: freshly created topics take seconds to get leaders.
        deadline = asyncio.get_running_loop().time() + self._start_timeout
        while True:
            try:
                await self.catch_up()
            except KeyUnavailableError:
                if asyncio.get_running_loop().time() < deadline:
                    continue
                log.warning("data_keys_not_loaded_at_start", topic=self._keys_topic)
            return

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def wrapped(self, contact_id: str) -> WrappedKey | None:
        return self._keys.get(contact_id)

    def erasure(self, contact_id: str) -> Erasure | None:
        return self._erasures.get(contact_id)

    async def ready(self) -> None:
        if not self._read_once:
            await self.catch_up()

    async def catch_up(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._connected.wait()
                await self._reach(await self._end_offsets())
        except KAFKA_FAILURES as exc:
            raise KeyUnavailableError(f"data keys: {type(exc).__name__}") from exc
        self._read_once = True

    async def _end_offsets(self) -> dict[TopicPartition, int]:
        assert self._consumer is not None  # noqa: S101 - set before _connected
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(self._partitions)
        return ends

    async def _reach(self, ends: dict[TopicPartition, int]) -> None:
        consumer = self._consumer
        assert consumer is not None  # noqa: S101 - set before _connected
        while True:
            self._progress.clear()
            positions = [await consumer.position(tp) for tp in ends]
            if all(p >= end for p, end in zip(positions, ends.values(), strict=True)):
                return
            await self._progress.wait()

    async def _follow(self) -> None:
        # Only cancellation ends it: `_read_forever` never returns, and every failure is retried.
        policy = retrying(backoff("reader"), "data_keys", event="data_keys_reader_restarts")
        await policy(self._read_forever)

    async def _read_forever(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=200,
        )
        try:
            await consumer.start()
            # The consumer's own metadata only covers subscribed topics; we assign instead.
            cluster = await consumer._client.fetch_all_metadata()
            partitions = [
                TopicPartition(topic, p)
                for topic in (self._keys_topic, self._erasures_topic)
                for p in sorted(cluster.partitions_for_topic(topic) or ())
            ]
            if not partitions:
                raise KafkaError(f"topic {self._keys_topic} not found")
            consumer.assign(partitions)
            for tp in partitions:
                if tp in self._next:
                    consumer.seek(tp, self._next[tp])
                else:
                    await consumer.seek_to_beginning(tp)
            self._consumer, self._partitions = consumer, partitions
            self._connected.set()
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, records in batch.items():
                    for record in records:
                        self._apply(tp.topic, record.key, record.value)
                    if records:
                        self._next[tp] = records[-1].offset + 1
                self._progress.set()
        finally:
            self._connected.clear()
            self._consumer = None
            await consumer.stop()

    def _apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        contact_id = key.decode()
        if topic == self._keys_topic:
            if value is None:
                self._keys.pop(contact_id, None)
                return
            try:
                self._keys[contact_id] = decode_wrapped(value)
            except SealError:
                # Not log.exception: nothing of the record belongs in a log.
                log.error("data_key_record_unreadable", topic=topic)  # noqa: TRY400
        elif value is None:
            self._erasures.pop(contact_id, None)
        elif (erasure := decode_erasure(value)) is not None:
            self._erasures[contact_id] = erasure
        else:
            log.error("erasure_record_unreadable", topic=topic)

    # --- writing ----------------------------------------------------------------------

    async def _producer_ready(self) -> AIOKafkaProducer:
        async with self._producer_lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    request_timeout_ms=int(self._timeout * 1000),
                )
                try:
                    async with asyncio.timeout(self._timeout):
                        await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def _send(self, contact_id: str, value: bytes | None) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                producer = await self._producer_ready()
                await producer.send_and_wait(self._keys_topic, key=contact_id.encode(), value=value)
        except KAFKA_FAILURES as exc:
            raise KeyUnavailableError(f"data keys: {type(exc).__name__}") from exc

    async def publish(self, contact_id: str, wrapped: WrappedKey) -> None:
        await self._send(contact_id, encode_wrapped(wrapped))
        self._keys[contact_id] = wrapped

    async def tombstone(self, contact_id: str) -> None:
        await self._send(contact_id, None)
        self._keys.pop(contact_id, None)
