"""Corrections to faust-streaming 0.15.3, applied where the app is created.

Stale acknowledgements. Around a rebalance, Faust skips records that were fetched under the
previous consumer generation, and acknowledges them as it skips them (streams.py: ``do_ack or
value is skipped_value``). Those offsets then count as processed, the next commit moves past them,
and the records are never handled: a SIGKILLed worker that rejoins its group lost a few
messages per partition this way. Refusing acknowledgements from an older generation keeps
the commit behind them; after the rebalance Faust seeks to the committed offset and
fetches them again, and our idempotent agents absorb any repeat.

Table co-partitioning check. Before a table write Faust compares the partition counts of
the source topic and the changelog from its consumer's cluster metadata. Right after Faust
creates a changelog, that metadata can list fewer of its partitions, and it is refreshed
only every few minutes: meanwhile every write raises ``PartitionsMismatch`` and the agent
(and every agent sharing its consumer) stalls. Our tables are co-partitioned by
construction, each created with its source topic's partition count from the catalogue
(tests/unit/test_table_partitions.py), so the check is answered from there instead.
"""

from __future__ import annotations

from typing import Any

from faust.tables.base import Collection
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


def trust_catalogue_partitions() -> None:
    """Skip Faust's metadata-based co-partitioning check (see the module docstring)."""

    def verified(self: Any, source_topic: str) -> None:
        self._verified_source_topics_for_partitions.add(source_topic)

    Collection._verify_source_topic_partitions = verified  # type: ignore[method-assign]
