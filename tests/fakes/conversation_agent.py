"""The conversation agent's ports in memory: a scripted flow, a recording action log, a
suppression table, and a desk that runs the real flow message by message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from schemas.events import (
    Event,
    HandoffRequested,
    MessageReceived,
    ReplyRequested,
    plain,
)
from schemas.knowledge import Passage
from streams.conversation.agent import ChatRequests, Conversations, GraphFlow
from streams.conversation.data_requests import ConfirmationCodes
from streams.conversation.state import ConversationState
from streams.flow.graph import FlowOutcome as Outcome
from streams.flow.retrieval import InMemoryRetriever
from streams.flow.runner import Flow
from tests.fakes.conversation_events import T0, message

CODES = ConfirmationCodes(b"test-confirmation-key")
REQUESTS = ChatRequests(CODES, confirm_minutes=15, link_days=7)


class ScriptedFlow:
    """A flow that answers every message with the same outcome and remembers which it saw."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.calls: list[str] = []

    async def run(self, message: MessageReceived, state: ConversationState) -> Outcome:
        self.calls.append(message.id)
        return self.outcome


class RecordingLog:
    """An action log that keeps what was emitted, or fails like a broker that went away."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[Event] = []
        self.fail = fail

    async def emit(self, events: Sequence[Event]) -> None:
        if self.fail:
            raise ConnectionError("broker gone")
        self.events.extend(events)


class Suppressions:
    """The table of replayed actions held back, as rows of (action id, type, origin)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str | None]] = []

    async def suppressed(self, action_id: str, action_type: str, origin: str | None) -> None:
        self.rows.append((action_id, action_type, origin))


def _flow() -> GraphFlow:
    passage = Passage("shipping", "Shipping", "Delivery takes two to three working days.")
    return GraphFlow(Flow(InMemoryRetriever([passage]), None, 5.0, 0, min_score=0.05), REQUESTS)


class Desk:
    """One conversation agent with its table and what it emitted, message by message."""

    def __init__(self) -> None:
        self.table: dict[str, Any] = {}
        self.log = RecordingLog()
        self.agent = Conversations(
            self.table, _flow(), self.log, requests=REQUESTS, clock=lambda: T0
        )
        self.count = 0

    async def says(
        self,
        text: str,
        *,
        minutes_later: float = 0,
        whatsapp: bool = True,
        conversation: str = "cv_1",
    ) -> list[Event]:
        self.count += 1
        base = message(self.count, text, chatwoot=not whatsapp)
        sent = base.model_copy(
            update={"time": base.time + timedelta(minutes=minutes_later), "subject": conversation}
        )
        before = len(self.log.events)
        await self.agent.handle(sent)
        return self.log.events[before:]

    def state(self, conversation: str = "cv_1") -> ConversationState:
        return ConversationState.model_validate(self.table[conversation])


def reply_text(events: list[Event]) -> str:
    (reply,) = [e for e in events if isinstance(e, ReplyRequested | HandoffRequested)]
    return plain(reply.data.personal).text or ""
