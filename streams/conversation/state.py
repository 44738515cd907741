"""Conversation state and the decisions over it. Pure: no Faust, no clock of its own.

The state lives in a Faust table keyed by conversation key (changelog-backed), one record a
conversation: who owns it (the bot or a human), its status, the recent turns the flow needs
as context, a data request waiting for its confirmation, and the ids of recently processed
events. Keeping the dedupe window inside the same record means "processed" and the state it
produced are written together, in one changelog message, so a crash can never leave one
without the other.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.events import (
    ConversationStatusChanged,
    Event,
    MessageReceived,
    plain,
)
from streams.conversation.data_requests import PendingRequest

Owner = Literal["bot", "human"]

MAX_TURNS = 10
MAX_TURN_CHARS = 1000
# Providers redeliver for up to 7 days (Meta); remember ids a little longer than that.
DEDUPE_SECONDS = 8 * 24 * 3600
MAX_REMEMBERED_EVENTS = 1000
# A conversation with no agent desk behind it (direct WhatsApp, 360dialog) returns to the bot
# after this long, since nobody can hand it back explicitly.
DESKLESS_HUMAN_HOLD_SECONDS = 24 * 3600


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Turn(_Frozen):
    role: Literal["customer", "bot"]
    text: str


class ConversationState(_Frozen):
    # Whose conversation it is: the turns are sealed with this contact's key when stored.
    contact_id: str | None = None
    owner: Owner = "bot"
    status: str | None = None
    human_since: float | None = None
    turns: tuple[Turn, ...] = ()
    processed: tuple[tuple[str, float], ...] = ()
    # An erasure or export asked for in the chat, waiting for its code.
    pending: PendingRequest | None = None

    def seen(self, event_id: str) -> bool:
        return any(seen_id == event_id for seen_id, _ in self.processed)

    def remember(self, event_id: str, now: float) -> ConversationState:
        horizon = now - DEDUPE_SECONDS
        kept = [(i, t) for i, t in self.processed if t >= horizon]
        kept.append((event_id, now))
        return self.model_copy(update={"processed": tuple(kept[-MAX_REMEMBERED_EVENTS:])})

    def with_turn(self, role: Literal["customer", "bot"], text: str | None) -> ConversationState:
        if not text:
            return self
        turns = (*self.turns, Turn(role=role, text=text[:MAX_TURN_CHARS]))
        return self.model_copy(update={"turns": turns[-MAX_TURNS:]})

    def to_human(self, now: float) -> ConversationState:
        return self.model_copy(update={"owner": "human", "human_since": now})

    def to_bot(self) -> ConversationState:
        return self.model_copy(update={"owner": "bot", "human_since": None})


# --- what to do with an event --------------------------------------------------------


class Duplicate(_Frozen):
    """Seen before: nothing happens, again."""


class Silent(_Frozen):
    """Recorded, but the bot does not answer (a human owns the conversation)."""


class Converse(_Frozen):
    """Run the flow on this customer message."""


class Record(_Frozen):
    """Only the state changes (status, ownership); nothing goes out."""


Step = Duplicate | Silent | Converse | Record


def _has_desk(event: MessageReceived) -> bool:
    return event.data.channel == "chatwoot"


def decide(state: ConversationState, event: Event, now: float) -> tuple[ConversationState, Step]:
    """The state after an inbound event, and what to do about it."""
    if state.seen(event.id):
        return state, Duplicate()
    state = state.remember(event.id, now)
    if isinstance(event, ConversationStatusChanged):
        return _status_changed(state, event, now), Record()
    if not isinstance(event, MessageReceived):
        return state, Record()
    state = state.with_turn("customer", plain(event.data.personal).text)
    if state.contact_id != event.data.contact_id:
        state = state.model_copy(update={"contact_id": event.data.contact_id})
    if state.owner == "human" and not _desk_hold_expired(state, event, now):
        return state, Silent()
    return state.to_bot(), Converse()


def _desk_hold_expired(state: ConversationState, event: MessageReceived, now: float) -> bool:
    if _has_desk(event) or state.human_since is None:
        return False
    return now - state.human_since > DESKLESS_HUMAN_HOLD_SECONDS


def _status_changed(
    state: ConversationState, event: ConversationStatusChanged, now: float
) -> ConversationState:
    """Chatwoot tells us who owns the conversation now."""
    data = event.data
    state = state.model_copy(update={"status": data.status})
    if data.status == "resolved":
        # A resolved conversation starts afresh with the bot; old turns are not context.
        return state.to_bot().model_copy(update={"turns": ()})
    handed_back = data.status == "pending" and data.previous_status not in (None, "pending")
    if handed_back or (data.status == "pending" and data.assignee_type in (None, "agent_bot")):
        return state.to_bot()
    if data.status == "open" or data.assignee_type in ("user", "team"):
        return state if state.owner == "human" else state.to_human(now)
    return state


def after_flow(
    state: ConversationState, reply_text: str, handed_off: bool, now: float
) -> ConversationState:
    """Record the bot's turn; a hand-off gives the conversation to a human."""
    state = state.with_turn("bot", reply_text)
    return state.to_human(now) if handed_off else state
