"""How a conversation's state is kept in its Faust table: the turns (what the customer and
the bot said) sealed with the contact's data key, since the table's changelog is a topic.

The rest of the state (owner, status, processed ids) names no one and stays readable. A
state whose key is gone loads with no turns: the flow loses context, never a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import structlog

from datakeys.keyring import KeyRing
from schemas.events import Sealed
from schemas.sealing import SealError, open_bytes, seal_bytes
from streams.conversation.state import ConversationState, Turn

log = structlog.get_logger(__name__)

_SEALED = "sealed_turns"
_PURPOSE = "turns"


class StateCodec(Protocol):
    async def load(self, stored: Mapping[str, Any] | None) -> ConversationState: ...

    async def dump(self, state: ConversationState) -> dict[str, Any]: ...


class PlainStates:
    """Turns in plaintext: for unit tests of the agent's order of work."""

    async def load(self, stored: Mapping[str, Any] | None) -> ConversationState:
        return ConversationState.model_validate(stored) if stored else ConversationState()

    async def dump(self, state: ConversationState) -> dict[str, Any]:
        return state.model_dump(mode="json")


class SealedStates:
    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    async def load(self, stored: Mapping[str, Any] | None) -> ConversationState:
        if not stored:
            return ConversationState()
        fields = {k: v for k, v in stored.items() if k not in (_SEALED, "turns")}
        box, contact_id = stored.get(_SEALED), stored.get("contact_id")
        turns: tuple[Turn, ...] = ()
        if box is not None and isinstance(contact_id, str):
            turns = await self._open(contact_id, Sealed.model_validate(box))
        return ConversationState.model_validate({**fields, "turns": turns})

    async def _open(self, contact_id: str, box: Sealed) -> tuple[Turn, ...]:
        key = await self.keyring.key_sealed_with(contact_id, box.key_id)
        if key is None:
            return ()  # forgotten: the turns are gone with the key
        try:
            raw = open_bytes(key, contact_id, _PURPOSE, box)
        except SealError:
            log.error("conversation_turns_unreadable", contact_id=contact_id)  # noqa: TRY400
            return ()
        return tuple(Turn.model_validate(turn) for turn in json.loads(raw))

    async def dump(self, state: ConversationState) -> dict[str, Any]:
        stored = state.model_dump(mode="json", exclude={"turns"})
        if state.turns and state.contact_id:
            key = await self.keyring.key_for(state.contact_id)
            raw = json.dumps([turn.model_dump(mode="json") for turn in state.turns]).encode()
            stored[_SEALED] = seal_bytes(key, state.contact_id, _PURPOSE, raw).model_dump()
        # Turns with no contact to seal them for (a state from before sealing) are dropped.
        return stored
