"""Ingest's producer has room for every webhook in flight in one partition's batch.

aiokafka keeps one open batch per partition while a request is in flight; a send that finds
it full waits for that request's answer and then races newer sends for room, which is how
one webhook in ten stalled behind the others at saturation. These run against the
producer's own accumulator, with no broker: a send that had to wait for room times out.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError, KafkaTimeoutError

from ingest.producer import MAX_BATCH_BYTES, MAX_REQUEST_BYTES, new_producer

# About a sealed WhatsApp text message as ingest writes it (value and headers).
SEALED_MESSAGE = b"x" * 950
HEADERS = [("type", b"message.received"), ("schema_version", b"1")]
IN_FLIGHT = 256  # webhooks of one conversation answered at once by one process
PARTITION = TopicPartition("inbound.v1", 0)


async def _send_all(count: int, value: bytes) -> list[asyncio.Future[object]]:
    """Append `count` records to one partition with nothing drained; raise
    KafkaTimeoutError as soon as one would have to wait for room."""
    producer = new_producer("127.0.0.1:9", timeout_seconds=5.0)
    accumulator = producer._message_accumulator
    delivered: list[asyncio.Future[object]] = []
    try:
        for _ in range(count):
            delivered.append(
                await accumulator.add_message(
                    PARTITION, b"contact", value, timeout=0.02, headers=HEADERS
                )
            )
    finally:
        accumulator.fail_all(KafkaError("never sent: no broker in this test"))
        for future in delivered:
            future.exception()  # retrieved: nothing was meant to be sent
        await producer.stop()
    return delivered


async def test_every_webhook_in_flight_fits_the_open_batch() -> None:
    """256 concurrent messages of one conversation all go into the partition's open batch:
    none waits for the request before it to be answered."""
    assert len(await _send_all(IN_FLIGHT, SEALED_MESSAGE)) == IN_FLIGHT


async def test_a_full_batch_makes_the_next_send_wait() -> None:
    """The check above can fail: past the batch's size, a send waits for room (and here,
    with no broker to take the batch, times out)."""
    with pytest.raises(KafkaTimeoutError):
        await _send_all(MAX_BATCH_BYTES // len(SEALED_MESSAGE) + 1, SEALED_MESSAGE)


def test_a_batch_stays_within_what_the_broker_accepts() -> None:
    """The broker refuses a batch over message.max.bytes (1 MiB and a few bytes)."""
    assert MAX_BATCH_BYTES <= MAX_REQUEST_BYTES
