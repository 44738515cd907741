"""What the worker wrote, watched while a benchmark runs: its actions on the actions topic,
and the replies the Chatwoot stand-in received."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.harness.errors import BenchError
from schemas.catalogue import ACTIONS
from schemas.events import HandoffRequested, ReplyRequested, decode


class ActionWatch:
    """Every action the worker writes, with when this process fetched it (a perf_counter)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
        )
        self.arrived: dict[str, float] = {}  # answered event id -> first fetched
        self.stamped: dict[str, float] = {}  # answered event id -> its action's produce time
        self.kinds: Counter[str] = Counter()
        self.repeated = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.assign([TopicPartition(self.topic, p) for p in range(ACTIONS.partitions)])
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    async def _run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for record in itertools.chain.from_iterable(batches.values()):
                action = decode(record.value)
                if not isinstance(action, ReplyRequested | HandoffRequested):
                    continue
                self.kinds[action.type] += 1
                if action.data.in_reply_to in self.arrived:
                    self.repeated += 1
                else:
                    self.arrived[action.data.in_reply_to] = now
                    # The worker's producer stamps the record (CreateTime, wall clock, ms).
                    self.stamped[action.data.in_reply_to] = record.timestamp / 1000

    def has(self, ids: Sequence[str]) -> bool:
        return all(i in self.arrived for i in ids)


_REPLY_PATH = re.compile(r"/api/v1/accounts/\d+/conversations/(\d+)/messages")


def reply_to(entry: dict[str, Any]) -> int | None:
    """The conversation a recorded request replied in, if it is an accepted public reply."""
    found = _REPLY_PATH.fullmatch(entry["path"])
    body = entry["json"]
    if entry["method"] != "POST" or found is None or entry["status"] != 200:
        return None
    if not isinstance(body, dict) or body.get("private"):
        return None
    return int(found.group(1))


class Replies:
    """The replies the Chatwoot stand-in received, read from its record by polling."""

    def __init__(self, session: aiohttp.ClientSession, chatwoot: str) -> None:
        self.session = session
        self.url = chatwoot
        self.seen = 0  # entries of the record already read
        self.arrived: dict[int, float] = {}  # conversation -> first reply seen (perf_counter)
        self.counts: Counter[int] = Counter()
        self.polls: list[float] = []  # how long each read took, seconds

    async def poll(self) -> None:
        started = time.perf_counter()
        async with self.session.get(f"{self.url}/_standin/requests") as response:
            record = (await response.json())["requests"]
        now = time.perf_counter()
        self.polls.append(now - started)
        for entry in record[self.seen :]:
            if entry["status"] is None:  # still being answered: read it next time
                break
            self.seen += 1
            conversation = reply_to(entry)
            if conversation is not None:
                self.counts[conversation] += 1
                self.arrived.setdefault(conversation, now)

    async def follow(self, interval: float) -> None:
        while True:
            started = time.perf_counter()
            await self.poll()
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    async def reset(self) -> None:
        async with self.session.post(f"{self.url}/_standin/reset") as response:
            response.raise_for_status()
        self.seen = 0
        self.arrived.clear()
        self.counts.clear()

    def total(self, conversations: Counter[int]) -> int:
        return sum(self.counts[c] for c in conversations)

    async def delivered(
        self, expected: Counter[int], seconds: float, check: Callable[[], None]
    ) -> float:
        """When (perf_counter) the stand-in had every expected reply, read every 0.25 s;
        meanwhile the children must stay alive."""
        deadline = time.perf_counter() + seconds
        while True:
            await self.poll()
            if self.total(expected) >= expected.total():
                return time.perf_counter()
            check()
            if time.perf_counter() > deadline:
                raise BenchError(f"replies at the Chatwoot stand-in: not all within {seconds:g} s")
            await asyncio.sleep(0.25)
