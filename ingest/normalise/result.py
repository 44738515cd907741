from __future__ import annotations

from dataclasses import dataclass

from schemas.events import Event


@dataclass(frozen=True)
class Normalised:
    """What one webhook body turned into.

    ``ignored`` holds a short, non-personal reason per part of the body that was
    deliberately dropped (a bot's own message, an event type we do not handle…), so the
    edge can count it. ``recognised`` is False when the body as a whole had no shape we
    know.
    """

    events: tuple[Event, ...] = ()
    ignored: tuple[str, ...] = ()
    recognised: bool = True


UNRECOGNISED = Normalised(recognised=False)
