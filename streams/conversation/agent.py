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

from schemas.events import ConversationErased, Event, MessageReceived, plain
from streams.consent.state import ConsentState, may_reply
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


class ConsentLookup(Protocol):
    async def current(self, contact_id: str) -> ConsentState:
        """The contact's consent as this process knows it (see `streams.consent.view`)."""
        ...


class GraphFlow:
    """The LangGraph flow, fed from the conversation's state and the contact's consent,
    which its consent gate acts on. Without a lookup every contact has the defaults."""

    def __init__(self, flow: Flow, consent: ConsentLookup | None = None) -> None:
        self.flow = flow
        self.consent = consent

    async def run(self, message: MessageReceived, state: ConversationState) -> FlowOutcome:
        # The message itself is already the last turn of the state.
        history = tuple((turn.role, turn.text) for turn in state.turns[:-1])
        consent = (
            await self.consent.current(message.data.contact_id)
            if self.consent is not None
            else ConsentState()
        )
        return await self.flow.run(
            FlowInput(
                event_id=message.id,
                text=plain(message.data.personal).text,
                channel=message.data.channel,
                history=history,
                communication_consent=may_reply(consent),
                marketing_consent=consent.recorded("marketing"),
            )
        )


class ActionLog(Protocol):
    async def emit(self, events: Sequence[Event]) -> None:
        """Return once every event is acknowledged by Kafka."""
        ...


class ErasureReports(Protocol):
    async def conversation_erased(self, deletion_id: str, conversation_key: str) -> None:
        """Record that the conversation's state is gone (the erasure waits for it)."""
        ...


class Conversations:
    def __init__(
        self,
        table: MutableMapping[str, Any],
        flow: FlowRunner,
        actions: ActionLog,
        *,
        clock: Callable[[], float] = time.time,
        states: StateCodec | None = None,
        erasures: ErasureReports | None = None,
    ) -> None:
        self.table = table
        # The worker passes SealedStates, so the table's changelog holds no plaintext turns.
        self.states = states or PlainStates()
        self.flow = flow
        self.actions = actions
        self.clock = clock
        self.erasures = erasures

    async def handle(self, event: Event) -> None:
        key = event.subject
        if isinstance(event, ConversationErased):
            await self._erase(event)
            return
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

    async def _erase(self, event: ConversationErased) -> None:
        """Drop the conversation's state (a tombstone in the table's changelog), say nothing,
        then report it: the report comes after the deletion, so a crash in between repeats
        both, and the erasure counts this conversation only once its state is gone. The
        event is not remembered in the state: that would bring the entry back."""
        self.table.pop(event.subject, None)
        if self.erasures is not None:
            await self.erasures.conversation_erased(event.data.deletion_id, event.subject)
        log.info(
            "conversation_state_erased",
            conversation=event.subject,
            deletion_id=event.data.deletion_id,
        )
