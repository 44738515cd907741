"""How a re-published record, and everything it leads to, is known as a replay. Pure.

`switchboard replay --republish` copies each record with its key and headers, adding
``replayed-from: topic/partition/offset`` and ``replay: 1`` (``replay: resend`` with
``--resend``). The worker carries the ``replay`` header over to the actions it emits for
such a record, and the deliver agent sends an action marked ``replay: 1`` to nobody: it
records it as suppressed instead. So a replay reprocesses events (state, storage, actions)
without a word reaching a customer unless the replay was started with ``--resend``; even
then, the delivery log skips every step already delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

REPLAY = "replay"
REPLAYED_FROM = "replayed-from"
SUPPRESS = b"1"
RESEND = b"resend"

Mark = Literal["suppress", "resend"]
Headers = Sequence[tuple[str, bytes]]


def republished_headers(
    original: Iterable[tuple[str, bytes]], topic: str, partition: int, offset: int, resend: bool
) -> list[tuple[str, bytes]]:
    """The original headers (less any earlier replay marks) and this replay's marks."""
    kept = [(k, v) for k, v in original if k not in (REPLAY, REPLAYED_FROM)]
    return [
        *kept,
        (REPLAYED_FROM, f"{topic}/{partition}/{offset}".encode()),
        (REPLAY, RESEND if resend else SUPPRESS),
    ]


def replay_mark(
    headers: Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]] | None,
) -> Mark | None:
    """The replay mark a record carries (Faust hands events' headers over as a mapping,
    Kafka clients as pairs). An unknown value suppresses: when in doubt, the customer
    hears nothing."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for key, value in pairs:
        if key == REPLAY:
            return "resend" if value == RESEND else "suppress"
    return None


def mark_headers(mark: Mark | None) -> list[tuple[str, bytes]]:
    """The header to put on what a marked record leads to."""
    if mark is None:
        return []
    return [(REPLAY, RESEND if mark == "resend" else SUPPRESS)]
