"""The scenarios one worker variant goes through: a warm-up, the slow model, and a
destination down; each produces its customers' messages at once and times their replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiokafka import AIOKafkaProducer

from bench.harness.customers import Customers
from bench.harness.errors import BenchError
from bench.harness.inbound import chatwoot_records, whatsapp_records
from bench.harness.kafka import produce
from bench.harness.meter import own_cpu_seconds
from bench.harness.standins import control, whatsapp_answered
from bench.harness.watch import Replies
from bench.lanes.rows import (
    BACK,
    DOWN,
    DOWN_WAIT_SECONDS,
    MODEL_DELAY,
    WAIT_SECONDS,
    Row,
    slow_scenario,
)
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings
from switchboard.standins import StandInURLs

ALWAYS = 10**6  # a stand-in fault for every call


@dataclass
class Run:
    """What every scenario of one variant needs: its workers, stand-ins and producer."""

    settings: Settings
    urls: StandInURLs
    keys: Pseudonymizer
    session: aiohttp.ClientSession
    producer: AIOKafkaProducer
    prefix: str
    pids: list[int]

    def cpu(self) -> float:
        return sum(own_cpu_seconds(pid) for pid in self.pids)


async def seconds_until(
    done: Callable[[], Awaitable[bool]], started: float, limit: float = WAIT_SECONDS
) -> float | None:
    """Seconds from `started` until `done` (read every 0.1 s); None if not within `limit`."""
    while time.perf_counter() - started < limit:
        if await done():
            return time.perf_counter() - started
        await asyncio.sleep(0.1)
    return None


def all_replied(replies: Replies, conversations: list[int]) -> Callable[[], Awaitable[bool]]:
    """Whether the Chatwoot stand-in has a reply in every one of `conversations`."""

    async def done() -> bool:
        await replies.poll()
        return all(c in replies.arrived for c in conversations)

    return done


async def warm_up(run: Run, customers: Customers) -> None:
    replies = Replies(run.session, run.urls.chatwoot)
    records, conversations = chatwoot_records(customers, 1, run.keys, run.prefix)
    await produce(run.producer, records)
    if await seconds_until(all_replied(replies, conversations), time.perf_counter()) is None:
        raise BenchError("the worker did not answer its first message")


async def slow_model(run: Run, variant: str, customers: Customers, count: int) -> Row:
    """`count` customers at once, the model taking MODEL_DELAY a call."""
    replies = Replies(run.session, run.urls.chatwoot)
    await replies.reset()
    await control(run.session, run.urls.model, "reset")
    fault = {"delay_seconds": MODEL_DELAY, "times": ALWAYS}
    await control(run.session, run.urls.model, "faults", fault)
    records, conversations = chatwoot_records(customers, count, run.keys, run.prefix)
    cpu = run.cpu()
    started = time.perf_counter()
    await produce(run.producer, records)
    seconds = await seconds_until(all_replied(replies, conversations), started)
    used = (run.cpu() - cpu) * 1000 / count
    await control(run.session, run.urls.model, "reset")
    return Row(variant, slow_scenario(count), count, seconds, used)


async def destination_down(run: Run, variant: str, customers: Customers, count: int) -> list[Row]:
    """`count` WhatsApp and `count` Chatwoot customers at once while the Graph API answers
    503; then the Graph API back."""
    replies = Replies(run.session, run.urls.chatwoot)
    await replies.reset()
    await control(run.session, run.urls.graph, "reset")
    await control(run.session, run.urls.graph, "faults", {"status": 503, "times": ALWAYS})
    whatsapp, phones = whatsapp_records(count, run.keys, run.prefix)
    chatwoot, conversations = chatwoot_records(customers, count, run.keys, run.prefix)
    started = time.perf_counter()
    await produce(run.producer, [r for pair in zip(whatsapp, chatwoot, strict=True) for r in pair])
    answered = all_replied(replies, conversations)
    chatwoot_seconds = await seconds_until(answered, started, DOWN_WAIT_SECONDS)
    await control(run.session, run.urls.graph, "reset")
    recovered = time.perf_counter()

    async def whatsapp_done() -> bool:
        return set(phones) <= await whatsapp_answered(run.session, run.urls.graph)

    whatsapp_seconds = await seconds_until(whatsapp_done, recovered)
    return [
        Row(variant, DOWN, count, chatwoot_seconds, limit=DOWN_WAIT_SECONDS),
        Row(variant, BACK, count, whatsapp_seconds),
    ]
