"""The worker's two replay hooks, kept out of the agents.

- converse: `MarkedActions` is the conversation's `ActionLog`; told the headers of the record
  being handled (`follow`), it puts that record's replay marks on every action it emits. In a
  group `switchboard replay` seeded (a replay group), every record counts as replayed, with
  the mark the replay was started with.
- deliver: `ReplayGuard.holds_back` answers True for an action marked ``replay: 1``, after
  recording it as suppressed; the agent then acknowledges it without sending anything. In a
  replay group it also holds back the actions that are no replay's: those belong to the live
  pipeline, whose own worker delivers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Protocol

import structlog

from schemas.events import Event, HandoffRequested, ReplyRequested
from streams.replay.marks import REPLAYED_FROM, Mark, mark_headers, replay_mark
from switchboard.retrying import until_done

log = structlog.get_logger(__name__)

HeaderPairs = Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]] | None


class HeaderedLog(Protocol):
    async def emit(
        self, events: Sequence[Event], headers: Sequence[tuple[str, bytes]] = ()
    ) -> None: ...


def _replayed_from(headers: HeaderPairs) -> str | None:
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for key, value in pairs:
        if key == REPLAYED_FROM and value is not None:
            return value.decode(errors="replace")
    return None


class MarkedActions:
    """An `ActionLog` that carries the current record's replay marks onto what it emits.

    The marks live in a context variable: records of different conversations are handled
    at once, each in a task started after ``follow`` saw its headers, and a task keeps the
    context it was started in."""

    def __init__(self, log: HeaderedLog, group_mark: Mark | None = None) -> None:
        self.log = log
        self.group_mark = group_mark
        self._current: ContextVar[tuple[Mark | None, str | None]] = ContextVar(
            f"replay_marks_{id(self)}", default=(group_mark, None)
        )

    @property
    def mark(self) -> Mark | None:
        return self._current.get()[0]

    @property
    def origin(self) -> str | None:
        return self._current.get()[1]

    def follow(self, headers: HeaderPairs) -> None:
        own = replay_mark(headers)
        origin = _replayed_from(headers) if own is not None else None
        self._current.set((own or self.group_mark, origin))

    async def emit(self, events: Sequence[Event]) -> None:
        mark, origin = self._current.get()
        extra = mark_headers(mark)
        if origin is not None:
            extra.append((REPLAYED_FROM, origin.encode()))
        await self.log.emit(events, extra)


class SuppressionLog(Protocol):
    async def suppressed(self, action_id: str, action_type: str, origin: str | None) -> None:
        """Record that this action was held back; repeats only count."""
        ...


class ReplayGuard:
    def __init__(self, suppressions: SuppressionLog, *, replay_group: bool = False) -> None:
        self.suppressions = suppressions
        self.replay_group = replay_group

    async def holds_back(self, event: object, headers: HeaderPairs) -> bool:
        mark = replay_mark(headers)
        if mark is None:
            return self.replay_group
        if mark == "resend":
            return False
        if isinstance(event, ReplyRequested | HandoffRequested):
            origin = _replayed_from(headers)
            await until_done("suppress_replayed_action")(
                self.suppressions.suppressed, event.id, event.type, origin
            )
            log.info("delivery_suppressed_replay", action_id=event.id, replayed_from=origin)
        return True
