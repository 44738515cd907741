"""Who owns a conversation, what is a duplicate, and when the bot speaks."""

from __future__ import annotations

from schemas.events import (
    MessageStatusChanged,
    MessageStatusChangedData,
    Personal,
)
from streams.conversation.state import (
    DEDUPE_SECONDS,
    DESKLESS_HUMAN_HOLD_SECONDS,
    MAX_TURNS,
    ConversationState,
    Converse,
    Duplicate,
    Record,
    Silent,
    after_flow,
    decide,
)
from tests.fakes.conversation_events import T0, WHATSAPP, WHEN, message, status


def test_a_new_conversation_belongs_to_the_bot() -> None:
    """The first customer message runs the flow and is remembered as a turn."""
    state, step = decide(ConversationState(), message(1), T0)
    assert isinstance(step, Converse)
    assert state.owner == "bot"
    assert [t.text for t in state.turns] == ["hello?"]


def test_the_same_event_twice_is_processed_once() -> None:
    """A redelivered event is recognised and changes nothing."""
    state, _ = decide(ConversationState(), message(1), T0)
    again, step = decide(state, message(1), T0 + 60)
    assert isinstance(step, Duplicate)
    assert again == state


def test_the_dedupe_window_is_bounded_in_time() -> None:
    """Event ids are forgotten after the window, so the state does not grow forever."""
    state, _ = decide(ConversationState(), message(1), T0)
    later, _ = decide(state, message(2), T0 + DEDUPE_SECONDS + 1)
    assert [event_id for event_id, _ in later.processed] == ["m2"]


def test_after_a_handoff_the_bot_stays_silent() -> None:
    """Once handed off, further customer messages are recorded but not answered."""
    state, _ = decide(ConversationState(), message(1), T0)
    state = after_flow(state, "A colleague will take over.", handed_off=True, now=T0)
    state, step = decide(state, message(2, "still there?"), T0 + 5)
    assert isinstance(step, Silent)
    assert state.owner == "human"
    assert state.turns[-1].text == "still there?"


def test_an_agent_opening_the_conversation_silences_the_bot() -> None:
    """Chatwoot status open (a human took it) makes the bot silent."""
    state, step = decide(ConversationState(), status(1, "open"), T0)
    assert isinstance(step, Record)
    _, step = decide(state, message(2), T0)
    assert isinstance(step, Silent)


def test_an_assigned_agent_silences_the_bot() -> None:
    """A pending conversation assigned to a person belongs to that person."""
    state, _ = decide(ConversationState(), status(1, "pending", assignee="user"), T0)
    assert state.owner == "human"


def test_handing_back_to_pending_wakes_the_bot() -> None:
    """Status pending again (handed back to the bot) lets the bot answer."""
    state, _ = decide(ConversationState(), status(1, "open"), T0)
    state, _ = decide(state, status(2, "pending"), T0 + 1)
    _, step = decide(state, message(3), T0 + 2)
    assert isinstance(step, Converse)


def test_setting_pending_hands_back_even_with_an_agent_assigned() -> None:
    """An agent moving the conversation back to pending hands it to the bot."""
    state, _ = decide(ConversationState(), status(1, "open", assignee="user"), T0)
    state, _ = decide(state, status(2, "pending", assignee="user", previous="open"), T0 + 1)
    assert state.owner == "bot"


def test_resolving_starts_afresh() -> None:
    """A resolved conversation goes back to the bot without its old turns."""
    state, _ = decide(ConversationState(), message(1), T0)
    state = after_flow(state, "handing over", handed_off=True, now=T0)
    state, _ = decide(state, status(2, "resolved"), T0 + 1)
    assert (state.owner, state.turns) == ("bot", ())


def test_deskless_hold_expires() -> None:
    """On direct WhatsApp nobody can hand back, so the bot returns after the hold."""
    state, _ = decide(ConversationState(), message(1, chatwoot=False), T0)
    state = after_flow(state, "", handed_off=True, now=T0)
    _, step = decide(state, message(2, chatwoot=False), T0 + 60)
    assert isinstance(step, Silent)
    _, step = decide(state, message(3, chatwoot=False), T0 + DESKLESS_HUMAN_HOLD_SECONDS + 1)
    assert isinstance(step, Converse)


def test_chatwoot_hold_does_not_expire() -> None:
    """With an agent desk, only Chatwoot hands a conversation back."""
    state, _ = decide(ConversationState(), message(1), T0)
    state = after_flow(state, "", handed_off=True, now=T0)
    _, step = decide(state, message(2), T0 + DESKLESS_HUMAN_HOLD_SECONDS * 10)
    assert isinstance(step, Silent)


def test_turns_are_bounded() -> None:
    """Only the recent turns are kept as context."""
    state = ConversationState()
    for n in range(MAX_TURNS * 2):
        state, _ = decide(state, message(n, f"q{n}"), T0 + n)
    assert len(state.turns) == MAX_TURNS
    assert state.turns[-1].text == f"q{MAX_TURNS * 2 - 1}"


def test_statuses_of_our_messages_do_not_speak() -> None:
    """A delivery receipt changes nothing but the dedupe memory."""
    receipt = MessageStatusChanged(
        id="st1",
        source="whatsapp-cloud",
        time=WHEN,
        subject="cv_1",
        correlation_id="c",
        data=MessageStatusChangedData(
            channel="whatsapp",
            contact_id="ct_1",
            route=WHATSAPP,
            provider_message_id="w",
            status="read",
            personal=Personal(),
        ),
    )
    state, step = decide(ConversationState(), receipt, T0)
    assert isinstance(step, Record)
    assert state.turns == ()


def test_state_round_trips_through_json() -> None:
    """The table stores the state as JSON and gets the same state back."""
    state, _ = decide(ConversationState(), message(1), T0)
    state = after_flow(state, "answer", handed_off=False, now=T0)
    assert ConversationState.model_validate_json(state.model_dump_json()) == state
