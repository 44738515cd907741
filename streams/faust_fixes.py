"""A correction to faust-streaming 0.15.3, applied where the app is created.

Around a rebalance, Faust skips records that were fetched under the previous consumer
generation, and acknowledges them as it skips them (streams.py: ``do_ack or value is
skipped_value``). Those offsets then count as processed, the next commit moves past them,
and the records are never handled: a SIGKILLed worker that rejoins its group lost a few
messages per partition this way. Refusing acknowledgements from an older generation keeps
the commit behind them; after the rebalance Faust seeks to the committed offset and
fetches them again, and our idempotent agents absorb any repeat.
"""

from __future__ import annotations

from typing import Any

from faust.transport.consumer import Consumer

_PATCHED = "_switchboard_generation_checked"


def refuse_stale_acks() -> None:
    if getattr(Consumer, _PATCHED, False):
        return
    original = Consumer.ack

    def ack(self: Any, message: Any) -> bool:
        current = self.app.consumer_generation_id
        if getattr(message, "generation_id", current) != current:
            return False
        return bool(original(self, message))

    Consumer.ack = ack  # type: ignore[method-assign]
    setattr(Consumer, _PATCHED, True)
