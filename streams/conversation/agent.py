"""The conversation agent: inbound event → state → flow → actions. Thin by design.

Per event, in this order: decide from the stored state (pure); run the flow if the bot is
to speak; send the resulting actions and wait for Kafka to acknowledge them; only then
write the new state (which also marks the event processed); the caller acknowledges the
offset last. A crash anywhere before the state write makes the event run again, producing
the same action ids, which the outbound sinks recognise as already delivered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from schemas.events import Event, MessageReceived, plain
from streams.conversation.actions import actions_for
from streams.conversation.state import ConversationState, Converse, after_flow, decide
from streams.conversation.stored import PlainStates, StateCodec
from streams.flow.graph import FlowInput, FlowOutcome
from streams.flow.runner import Flow

log = structlog.get_logger(__name__)


class FlowRunner(Protocol):
    async def run(self, message: MessageReceived, state: ConversationState) -> FlowOutcome:
        """Exactly one outcome per message; never raises."""
        ...


class GraphFlow:
    """The LangGraph flow, fed from the conversation's state."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    async def run(self, message: MessageReceived, state: ConversationState) -> FlowOutcome:
        # The message itself is already the last turn of the state.
        history = tuple((turn.role, turn.text) for turn in state.turns[:-1])
        return await self.flow.run(
            FlowInput(
                event_id=message.id,
                text=plain(message.data.personal).text,
                channel=message.data.channel,
                history=history,
            )
        )


class ActionLog(Protocol):
    async def emit(self, events: Sequence[Event]) -> None:
        """Return once every event is acknowledged by Kafka."""
        ...


class Conversations:
    def __init__(
        self,
        table: MutableMapping[str, Any],
        flow: FlowRunner,
        actions: ActionLog,
        clock: Callable[[], float] = time.time,
        states: StateCodec | None = None,
    ) -> None:
        self.table = table
        # The worker passes SealedStates, so the table's changelog holds no plaintext turns.
        self.states = states or PlainStates()
        self.flow = flow
        self.actions = actions
        self.clock = clock

    async def handle(self, event: Event) -> None:
        key = event.subject
        before = await self.states.load(self.table.get(key))
        now = self.clock()
        state, step = decide(before, event, now)
        if isinstance(step, Converse) and isinstance(event, MessageReceived):
            outcome = await self.flow.run(event, state)
            await self.actions.emit(actions_for(event, outcome, datetime.fromtimestamp(now, UTC)))
            state = after_flow(state, outcome.text, outcome.kind == "handoff", now)
            log.info(
                "conversation_turn",
                conversation=key,
                event_id=event.id,
                correlation_id=event.correlation_id,
                outcome=outcome.kind,
                intent=outcome.intent,
                reason=outcome.reason,
            )
        if state != before:
            self.table[key] = await self.states.dump(state)
