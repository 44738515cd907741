"""The conversation agent: inbound event → state → flow → actions. Thin by design.

Per event, in this order: decide from the stored state (pure); run the flow if the bot is
to speak; send the resulting actions and wait for Kafka to acknowledge them; only then
write the new state (which also marks the event processed); the caller acknowledges the
offset last. A crash anywhere before the state write makes the event run again, producing
the same action ids, which the outbound sinks recognise as already delivered.

A data request made in the chat is kept pending in the state until the customer's next
message settles it (`streams.conversation.data_requests`); a message that only confirms or
refuses it is answered without running the flow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from schemas.events import ConversationErased, Event, MessageReceived, plain
from streams.consent.state import ConsentState, may_reply
from streams.conversation.actions import actions_for, request_closed, request_opened
from streams.conversation.data_requests import (
    ConfirmationCodes,
    PendingRequest,
    Settled,
    may_confirm_in_chat,
    settle,
)
from streams.conversation.state import ConversationState, Converse, after_flow, decide
from streams.conversation.stored import PlainStates, StateCodec
from streams.flow.graph import Confirmation, FlowInput, FlowOutcome
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


@dataclass(frozen=True)
class ChatRequests:
    """How data requests made in the chat are confirmed (`streams.conversation.data_requests`)."""

    codes: ConfirmationCodes
    confirm_minutes: int = 15
    link_days: int = 7

    def confirmation(self, message: MessageReceived) -> Confirmation | None:
        """What the customer would confirm a request in this message with; None where the
        channel cannot vouch for who is writing."""
        if not may_confirm_in_chat(message.source):
            return None
        return Confirmation(self.codes.code(message.id), self.confirm_minutes, self.link_days)


class GraphFlow:
    """The LangGraph flow, fed from the conversation's state and the contact's consent,
    which its consent gate acts on. Without a lookup every contact has the defaults."""

    def __init__(
        self, flow: Flow, requests: ChatRequests, consent: ConsentLookup | None = None
    ) -> None:
        self.flow = flow
        self.requests = requests
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
                confirmation=self.requests.confirmation(message),
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


def with_notice(outcome: FlowOutcome, settled: Settled | None) -> FlowOutcome:
    """The flow's answer, after the word that a pending request was cancelled; a new
    request of its own (a new code) says enough, and a silent hand-off stays silent."""
    if settled is None or settled.notice is None or outcome.data_request is not None:
        return outcome
    if not outcome.text:
        return outcome
    return replace(outcome, text=f"{settled.notice}\n\n{outcome.text}")


class Conversations:
    def __init__(
        self,
        table: MutableMapping[str, Any],
        flow: FlowRunner,
        actions: ActionLog,
        *,
        requests: ChatRequests,
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
        self.requests = requests

    async def handle(self, event: Event) -> None:
        key = event.subject
        if isinstance(event, ConversationErased):
            await self._erase(event)
            return
        before = await self.states.load(self.table.get(key))
        now = self.clock()
        state, step = decide(before, event, now)
        if isinstance(step, Converse) and isinstance(event, MessageReceived):
            state = await self._converse(event, state, now)
        if state != before:
            self.table[key] = await self.states.dump(state)

    async def _converse(
        self, message: MessageReceived, state: ConversationState, now: float
    ) -> ConversationState:
        """One customer message: settle a pending data request, run the flow unless the
        message was only about that request, send the actions, record the turn."""
        pending, settled = state.pending, None
        if pending is not None:
            code = self.requests.codes.code(pending.request_id)
            text = plain(message.data.personal).text
            settled = settle(pending, text, message.time.timestamp(), code)
        if settled is not None and settled.answer is not None:
            outcome = FlowOutcome("reply", settled.answer, "data_request")
        else:
            outcome = with_notice(await self.flow.run(message, state), settled)
        when = datetime.fromtimestamp(now, UTC)
        events = actions_for(message, outcome, when)
        if pending is not None and settled is not None:
            events.append(
                request_closed(
                    message,
                    pending.kind,
                    pending.request_id,
                    settled.decision,
                    now=when,
                    reference=settled.reference,
                )
            )
        opened = self._opened(message, outcome)
        if opened is not None:
            events.append(request_opened(message, opened, when))
        elif outcome.data_request is not None:  # a person takes it (the channel, consent)
            events.append(
                request_closed(message, outcome.data_request, message.id, "handed_off", now=when)
            )
        await self.actions.emit(events)
        log.info(
            "conversation_turn",
            conversation=message.subject,
            event_id=message.id,
            correlation_id=message.correlation_id,
            outcome=outcome.kind,
            intent=outcome.intent,
            reason=outcome.reason,
            data_request=settled.decision if settled is not None else None,
        )
        state = after_flow(state, outcome.text, outcome.kind == "handoff", now)
        return state.model_copy(update={"pending": opened})

    def _opened(self, message: MessageReceived, outcome: FlowOutcome) -> PendingRequest | None:
        """The request the customer is now asked to confirm, if the flow asked."""
        if outcome.data_request is None or outcome.kind != "reply":
            return None
        window = self.requests.confirm_minutes * 60
        return PendingRequest(
            kind=outcome.data_request,
            request_id=message.id,
            expires_at=message.time.timestamp() + window,
        )

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
