"""The converse agent and consent and erasure: the consent gate gets the contact's consent,
and a conversation.erased event drops the conversation's state silently."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.events import ConsentChanged, ConversationErased, ConversationErasedData
from schemas.knowledge import Passage
from streams.consent.state import ConsentState, changed, record_row
from streams.conversation.actions import actions_for
from streams.conversation.agent import Conversations, GraphFlow
from streams.conversation.state import ConversationState
from streams.flow.graph import FlowInput, marketing_allowed
from streams.flow.graph import FlowOutcome as Outcome
from streams.flow.retrieval import InMemoryRetriever
from streams.flow.runner import Flow
from tests.fakes.consent_events import consent
from tests.fakes.conversation_agent import REQUESTS, RecordingLog, ScriptedFlow
from tests.fakes.conversation_events import T0, WHEN, message


class Reports:
    def __init__(self) -> None:
        self.erased: list[tuple[str, str]] = []

    async def conversation_erased(self, deletion_id: str, conversation_key: str) -> None:
        self.erased.append((deletion_id, conversation_key))


class FixedConsent:
    def __init__(self, state: ConsentState) -> None:
        self.state = state
        self.asked: list[str] = []

    async def current(self, contact_id: str) -> ConsentState:
        self.asked.append(contact_id)
        return self.state


def erased(n: int = 1) -> ConversationErased:
    return ConversationErased(
        id=f"conversation-erased:del_1:cv_1:{n}",
        source="switchboard",
        time=WHEN,
        subject="cv_1",
        correlation_id="del_1",
        data=ConversationErasedData(contact_id="ct_1", deletion_id="del_1"),
    )


def _flow() -> Flow:
    passage = Passage("shipping", "Shipping", "Delivery takes two to three working days.")
    return Flow(InMemoryRetriever([passage]), None, 5.0, 0, min_score=0.05)


async def test_an_erased_conversation_loses_its_state_and_says_nothing() -> None:
    """The table entry is deleted, no action is emitted, the erasure is told."""
    table: dict[str, Any] = {}
    flow, log, reports = (
        ScriptedFlow(Outcome("reply", "Hi", intent=None)),
        RecordingLog(),
        Reports(),
    )
    agent = Conversations(table, flow, log, clock=lambda: T0, erasures=reports, requests=REQUESTS)
    await agent.handle(message(1))
    assert "cv_1" in table
    log.events.clear()
    await agent.handle(erased())
    await agent.handle(erased())  # redelivered: harmless
    assert table == {}
    assert log.events == []
    assert reports.erased == [("del_1", "cv_1"), ("del_1", "cv_1")]


async def test_after_erasure_a_new_message_starts_afresh() -> None:
    """The erased event is not remembered in a new state; a later message is answered."""
    table: dict[str, Any] = {}
    flow, log = ScriptedFlow(Outcome("reply", "Hi", intent=None)), RecordingLog()
    agent = Conversations(table, flow, log, clock=lambda: T0, erasures=Reports(), requests=REQUESTS)
    await agent.handle(erased())
    await agent.handle(message(2))
    state = ConversationState.model_validate(table["cv_1"])
    assert [seen for seen, _ in state.processed] == ["m2"]
    assert flow.calls == ["m2"]


async def test_withdrawn_communication_consent_hands_off_silently() -> None:
    """The consent gate sees the contact's withdrawal: a hand-off with nothing to say."""
    withdrawn = changed(ConsentState(), consent(1, "communication", False))
    assert withdrawn is not None
    lookup = FixedConsent(withdrawn)
    outcome = await GraphFlow(_flow(), REQUESTS, lookup).run(
        message(1, "How long does delivery take?"), ConversationState()
    )
    assert (outcome.kind, outcome.reason, outcome.text) == ("handoff", "consent_withdrawn", "")
    assert lookup.asked == ["ct_1"]


async def test_with_consent_the_bot_answers() -> None:
    """Nothing withdrawn: the same question gets an answer."""
    outcome = await GraphFlow(_flow(), REQUESTS, FixedConsent(ConsentState())).run(
        message(1, "How long does delivery take?"), ConversationState()
    )
    assert outcome.kind == "reply"
    assert "working days" in outcome.text


@pytest.mark.parametrize(
    ("communication", "marketing", "allowed"),
    [(True, None, False), (True, False, False), (True, True, True), (False, True, False)],
)
def test_marketing_content_needs_a_marketing_grant(
    communication: bool, marketing: bool | None, allowed: bool
) -> None:
    """The marketing gate: an explicit grant, and only while the bot may write at all."""
    inp = FlowInput(
        "m1", "hi", "chatwoot", communication_consent=communication, marketing_consent=marketing
    )
    assert marketing_allowed(inp) is allowed


async def test_the_flow_knows_an_earlier_marketing_opt_out() -> None:
    """A recorded marketing withdrawal reaches the flow: STOP again is 'already'."""
    opted_out = changed(ConsentState(), consent(1, "marketing", False))
    assert opted_out is not None
    outcome = await GraphFlow(_flow(), REQUESTS, FixedConsent(opted_out)).run(
        message(1, "STOP"), ConversationState()
    )
    assert outcome.consent_withdrawn == "marketing"
    assert "already" in outcome.text


def test_an_opt_out_in_the_chat_is_recorded_as_coming_from_the_flow() -> None:
    """The flow's consent event names its origin, so the history says who recorded it."""
    outcome = Outcome("reply", "Done", "opt_out", consent_withdrawn="marketing")
    events = actions_for(message(1, "STOP"), outcome, WHEN)
    (change,) = [e for e in events if isinstance(e, ConsentChanged)]
    assert (change.data.origin, change.data.granted, change.subject) == ("flow", False, "ct_1")
    assert record_row(change)[4] == "flow"
