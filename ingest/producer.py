"""Appending events to the log: the only place ingest talks to Kafka.

A webhook is answered 2xx only after Kafka acknowledged every event in it (acks=all,
idempotent producer). If the broker does not acknowledge within the time budget, the
caller answers 503 and the sender retries; events that did reach the log meanwhile are
written again by the retry and deduplicated downstream by event id. If the broker refuses
them for good (`sinks.kafka.errors.is_transient` says which), the caller answers 500: a
retry would meet the same refusal, and an operator must act.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka import AIOKafkaProducer
from pydantic_core import PydanticSerializationError

from ingest.errors import LogRefused, LogUnavailable, Malformed, Oversized
from schemas.catalogue import topic_for
from schemas.events import Event, encode, kafka_headers
from sinks.kafka.errors import KAFKA_FAILURES, is_transient

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = "5"
# The producer's request limit (aiokafka's default; the broker's message.max.bytes is a few
# bytes more), and what a record may take of it beside the batch and record headers.
MAX_REQUEST_BYTES = 1_048_576
MAX_RECORD_BYTES = MAX_REQUEST_BYTES - 1024
# What one partition's batch may hold. aiokafka keeps one open batch per partition and has
# one produce request in flight per broker; a send that finds the batch full waits until
# the in-flight request is answered and the batch is taken, then races newer sends for room
# in the next one, and may lose again. With the 16 KiB default only about 16 sealed text
# messages (~950 bytes each) fit: at 32 concurrent webhooks of one conversation a tenth of
# them waited several round trips (p90 55-90 ms, p99 300-490 ms, against 21-30 and 33-91 ms
# with room; BENCHMARKS.md). 512 KiB holds what hundreds of requests in flight write to one
# partition in a round trip, and stays under the broker's 1 MiB limit for a batch.
MAX_BATCH_BYTES = 512 * 1024


class EventLog(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def append(self, events: Sequence[Event]) -> None:
        """Return once every event is durably in the log, or raise LogUnavailable (retry
        later) or LogRefused (the broker refuses them for good)."""
        ...

    def connected(self) -> bool: ...


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def size(self) -> int:
        return len(self.key) + len(self.value) + sum(len(k) + len(v) for k, v in self.headers)


def to_records(events: Sequence[Event], prefix: str) -> list[Record]:
    """Serialise every event before any is sent, so a body that cannot be written is refused
    whole (400, or 413 for an event over a record's size) rather than half-written. Kafka
    would refuse such a record on every attempt: a 503 would only make the sender retry it
    for days."""
    try:
        records = [
            Record(topic_for(e).full_name(prefix), e.subject.encode(), encode(e), kafka_headers(e))
            for e in events
        ]
    except PydanticSerializationError as exc:
        raise Malformed("the payload holds values that cannot be represented") from exc
    if any(record.size > MAX_RECORD_BYTES for record in records):
        raise Oversized(f"an event of this body exceeds the log's {MAX_RECORD_BYTES}-byte records")
    return records


def _refusal(cause: BaseException, count: int) -> LogUnavailable | LogRefused:
    if not is_transient(cause):
        log.error("kafka_append_refused", error=type(cause).__name__, events=count)
        return LogRefused(f"the event log refused the events ({type(cause).__name__})")
    log.warning("kafka_append_failed", error=type(cause).__name__, events=count)
    return LogUnavailable(
        "the event log did not acknowledge in time; retry later",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def new_producer(bootstrap_servers: str, timeout_seconds: float) -> AIOKafkaProducer:
    """Ingest's producer, not yet started: acknowledged by every in-sync replica, idempotent,
    and with room in a batch for every send of a round trip (MAX_BATCH_BYTES)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=int(timeout_seconds * 1000),
        linger_ms=1,
        max_batch_size=MAX_BATCH_BYTES,
        max_request_size=MAX_REQUEST_BYTES,
    )


class KafkaEventLog:
    def __init__(self, bootstrap_servers: str, topic_prefix: str, timeout_seconds: float) -> None:
        self._bootstrap = bootstrap_servers
        self._prefix = topic_prefix
        self._timeout = timeout_seconds
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect if the broker is there; a missing broker is not fatal, requests get 503."""
        try:
            await self._connect()
        except (LogUnavailable, LogRefused):
            log.warning("kafka_unavailable_at_start", bootstrap=self._bootstrap)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def connected(self) -> bool:
        return self._producer is not None

    async def _connect(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is not None:
                return self._producer
            producer = new_producer(self._bootstrap, self._timeout)
            try:
                async with asyncio.timeout(self._timeout):
                    await producer.start()
            except KAFKA_FAILURES as exc:
                await producer.stop()
                raise _refusal(exc, 0) from exc
            self._producer = producer
            return producer

    async def append(self, events: Sequence[Event]) -> None:
        records = to_records(events, self._prefix)
        producer = await self._connect()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        try:
            async with asyncio.timeout_at(deadline):
                pending = [
                    await producer.send(r.topic, key=r.key, value=r.value, headers=r.headers)
                    for r in records
                ]
            # asyncio.wait, not gather: a timeout must not cancel aiokafka's own futures.
            remaining = max(0.0, deadline - loop.time())
            done, not_done = await asyncio.wait(pending, timeout=remaining)
        except KAFKA_FAILURES as exc:
            raise _refusal(exc, len(events)) from exc
        failures = [f.exception() for f in done if f.exception() is not None]
        if not_done or failures:
            cause = failures[0] if failures else TimeoutError()
            raise _refusal(cause, len(events)) from cause
