"""The delivery agent: actions → the provider APIs, each step recorded before the offset.

A provider that is down (timeouts, 429, 5xx) fails the sender's round with `RetryLater`,
which ``handle`` lets through: the record's policy (the worker's, with the delivery
backoff, or the provider's ``Retry-After``) sends the action again, without end, with
growing pauses, and the round starts at the step that failed. That is the only retry of a
provider failure: the lane waits and lag shows it, but no reply is dropped. A provider that
refuses an action for good (another 4xx) gets the action dead-lettered, and a reply that
could not be sent turns into a hand-off, so the customer still reaches a person.

A data request confirmed in the chat (``data_request.closed``, confirmed) is turned into the
erasure or export it asks for here, not by the conversation agent: it follows the reply
that tells the customer about it on the same conversation, so that reply is delivered (or
given up on) first. For an erasure that is the last message about them that can be sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import structlog

from schemas.events import DataRequestClosed, Event, HandoffRequested, ReplyRequested
from schemas.outbound import DeliveryResult
from streams.conversation.actions import confirmed_request, handoff_after_refusal
from streams.conversation.agent import ActionLog
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.types import Record

log = structlog.get_logger(__name__)


class Sender(Protocol):
    async def send(self, action: ReplyRequested | HandoffRequested) -> DeliveryResult: ...


class Deliveries:
    def __init__(
        self,
        sender: Sender,
        actions: ActionLog,
        dead_letters: DeadLetters,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sender = sender
        self.actions = actions
        self.dead_letters = dead_letters
        self.clock = clock

    async def handle(self, event: Event, record: Record) -> None:
        if isinstance(event, DataRequestClosed):
            request = confirmed_request(event)
            if request is not None:
                await self.actions.emit([request])
                log.info("chat_request_confirmed", kind=event.data.kind, request=request.id)
            return
        if not isinstance(event, ReplyRequested | HandoffRequested):
            return
        result = await self.sender.send(event)  # RetryLater: the record's policy sends again
        if result.outcome == "refused":
            await self._refused(event, record, result.reason or "refused")

    async def _refused(
        self, event: ReplyRequested | HandoffRequested, record: Record, reason: str
    ) -> None:
        await self.dead_letters.send(record, f"delivery_refused:{reason}")
        if isinstance(event, ReplyRequested):
            now = datetime.fromtimestamp(self.clock(), UTC)
            await self.actions.emit([handoff_after_refusal(event, now)])
