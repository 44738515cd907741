"""The webhook driver: Chatwoot delivering customer messages, the way Chatwoot does.

Messages go out at a steady rate across many conversations, each uniquely identified and
correctly signed. Within a conversation the next message waits until the previous one was
answered 2xx, so the order the customer wrote in is the order Switchboard is told. Anything
but a 2xx (503, a timeout, a refused connection while the ingest restarts) is retried after a
pause, as providers retry, until a deadline; every answer is recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field

import httpx

from ingest.testing import chatwoot_headers
from tests.fakes import chatwoot_payloads
from tests.faults.ledger import Sent
from tests.sample_questions import QUESTIONS

RETRY_PAUSE_SECONDS = 1.0  # when the answer names no Retry-After
REQUEST_TIMEOUT_SECONDS = 10.0  # Chatwoot's own webhook timeout is 5 s; be a little lenient


@dataclass
class Message:
    message_id: int
    conversation: int
    body: bytes
    statuses: list[str] = field(default_factory=list)

    def sent(self) -> Sent:
        return Sent(self.message_id, self.conversation, tuple(self.statuses))


def first_ids() -> int:
    """Ids nobody used before, so a run never meets an earlier run's messages."""
    return 10**9 + uuid.uuid4().int % 10**9


class Driver:
    def __init__(
        self,
        url: str,
        secret: str,
        conversations: int,
        *,
        give_up_after: float = 300.0,
    ) -> None:
        self.url = url
        self.secret = secret
        start = first_ids()
        self.conversations = list(range(start, start + conversations))
        self._ids = itertools.count(start)
        self.give_up_after = give_up_after
        self.messages: list[Message] = []
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._client = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS)

    def message(self, conversation: int) -> Message:
        body = chatwoot_payloads.incoming_message()
        message_id = next(self._ids)
        body["id"] = message_id
        body["content"] = QUESTIONS[message_id % len(QUESTIONS)]
        body["conversation"]["id"] = conversation
        body["sender"]["id"] = conversation  # one customer a conversation
        message = Message(message_id, conversation, json.dumps(body).encode())
        self.messages.append(message)
        return message

    async def burst(self, count: int) -> list[Message]:
        """``count`` messages at once, one per conversation in turn; returns when all are 2xx."""
        conversations = itertools.cycle(self.conversations)
        batch = [self.message(next(conversations)) for _ in range(count)]
        await asyncio.gather(*(self._deliver(m) for m in batch))
        return batch

    async def steady(self, rate: float, stop: asyncio.Event) -> None:
        """A message every 1/rate seconds to the next conversation not waiting for an answer,
        until ``stop``; then wait for every message in flight to be answered or given up."""
        interval = 1.0 / rate
        turn = itertools.cycle(self.conversations)
        next_at = time.monotonic()
        while not stop.is_set():
            for _ in range(len(self.conversations)):
                conversation = next(turn)
                if conversation not in self._busy:
                    self._start(self.message(conversation))
                    break
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await self.drain()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    def _start(self, message: Message) -> None:
        self._busy.add(message.conversation)
        task = asyncio.create_task(self._deliver(message))
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._busy.discard(message.conversation)

        task.add_done_callback(done)

    async def _deliver(self, message: Message) -> None:
        deadline = time.monotonic() + self.give_up_after
        while time.monotonic() < deadline:
            status, pause = await self._attempt(message)
            message.statuses.append(status)
            if status.startswith("2") or (status.startswith("4") and status != "429"):
                return  # accepted, or refused for good (the checker reports it)
            await asyncio.sleep(pause)

    async def _attempt(self, message: Message) -> tuple[str, float]:
        # Signed at each attempt, as Chatwoot signs each delivery with its own timestamp.
        headers = chatwoot_headers(self.secret, message.body)
        try:
            response = await self._client.post(
                f"{self.url}/webhooks/chatwoot", content=message.body, headers=headers
            )
        except httpx.TimeoutException:
            return "timeout", RETRY_PAUSE_SECONDS
        except httpx.TransportError:
            return "no-connection", RETRY_PAUSE_SECONDS
        retry_after = response.headers.get("retry-after", "")
        pause = float(retry_after) if retry_after.isdigit() else RETRY_PAUSE_SECONDS
        return str(response.status_code), pause

    def sent(self) -> list[Sent]:
        return [m.sent() for m in self.messages]

    async def close(self) -> None:
        await self._client.aclose()
