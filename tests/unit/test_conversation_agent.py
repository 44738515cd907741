"""The conversation agent's order of work, with an in-memory table, flow and action log."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.events import ReplyRequested
from streams.conversation.agent import Conversations
from streams.conversation.state import ConversationState
from streams.flow.graph import FlowOutcome as Outcome
from tests.fakes.conversation_agent import REQUESTS, RecordingLog, ScriptedFlow
from tests.fakes.conversation_events import T0, message, status


def _agent(flow: ScriptedFlow, log: RecordingLog, table: dict[str, Any]) -> Conversations:
    return Conversations(table, flow, log, requests=REQUESTS, clock=lambda: T0)


async def test_a_message_gets_exactly_one_reply() -> None:
    """A customer message runs the flow once and emits one reply."""
    table: dict[str, Any] = {}
    flow, log = ScriptedFlow(Outcome("reply", "Hello!", intent="greeting")), RecordingLog()
    await _agent(flow, log, table).handle(message(1))
    assert [type(e) for e in log.events] == [ReplyRequested]
    assert ConversationState.model_validate(table["cv_1"]).turns[-1].text == "Hello!"


async def test_a_redelivered_message_is_not_answered_twice() -> None:
    """The same event handled twice runs the flow once."""
    table: dict[str, Any] = {}
    flow, log = ScriptedFlow(Outcome("reply", "Hello!", intent=None)), RecordingLog()
    agent = _agent(flow, log, table)
    await agent.handle(message(1))
    await agent.handle(message(1))
    assert flow.calls == ["m1"]
    assert len(log.events) == 1


async def test_state_is_not_written_when_actions_were_not_acknowledged() -> None:
    """If Kafka refuses the actions, the event stays unprocessed, so a retry answers it."""
    table: dict[str, Any] = {}
    flow = ScriptedFlow(Outcome("reply", "Hello!", intent=None))
    with pytest.raises(ConnectionError):
        await _agent(flow, RecordingLog(fail=True), table).handle(message(1))
    assert table == {}
    log = RecordingLog()
    await _agent(flow, log, table).handle(message(1))
    assert [e.id for e in log.events] == ["reply:m1"]


async def test_a_handoff_silences_the_following_messages() -> None:
    """After a hand-off the next message is recorded but runs no flow."""
    table: dict[str, Any] = {}
    flow, log = (
        ScriptedFlow(Outcome("handoff", "", reason="human_request", intent=None)),
        RecordingLog(),
    )
    agent = _agent(flow, log, table)
    await agent.handle(message(1, "talk to a human"))
    await agent.handle(message(2, "hello?"))
    assert flow.calls == ["m1"]
    assert [e.id for e in log.events] == ["handoff:m1"]


async def test_status_changes_only_touch_the_state() -> None:
    """A Chatwoot status change emits nothing and updates ownership."""
    table: dict[str, Any] = {}
    flow, log = ScriptedFlow(Outcome("reply", "x", intent=None)), RecordingLog()
    await _agent(flow, log, table).handle(status(1, "open"))
    assert log.events == []
    assert table["cv_1"]["owner"] == "human"
