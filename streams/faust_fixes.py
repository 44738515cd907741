"""Corrections to faust-streaming 0.15.3, applied where the app is created.

Stale acknowledgements. Around a rebalance, Faust skips records that were fetched under the
previous consumer generation, and acknowledges them as it skips them (streams.py: ``do_ack or
value is skipped_value``). Those offsets then count as processed, the next commit moves past them,
and the records are never handled: a SIGKILLed worker that rejoins its group lost a few
messages per partition this way. Refusing acknowledgements from an older generation keeps
the commit behind them; after the rebalance Faust seeks to the committed offset and
fetches them again, and our idempotent agents absorb any repeat.

Records fetched for a paused partition. Faust's getmany yields only records of active
partitions and drops the rest: records fetched just before a partition was paused (its
tables recovering after a rebalance) are gone, while the fetch position has moved past
them. When the partition resumes, the next record's offset jumps, Faust takes the jump for
a compaction gap and counts the skipped offsets as processed, so the commit moves past
records nobody handled (bench/recovery.py saw one message of a partition lost after a
restart). Dropped records now move the partition's fetch position back to the first of
them, so they are fetched again once it resumes.

Table co-partitioning check. Before a table write Faust compares the partition counts of
the source topic and the changelog from its consumer's cluster metadata. Right after Faust
creates a changelog, that metadata can list fewer of its partitions, and it is refreshed
only every few minutes: meanwhile every write raises ``PartitionsMismatch`` and the agent
(and every agent sharing its consumer) stalls. Our tables are co-partitioned by
construction, each created with its source topic's partition count from the catalogue
(tests/unit/test_table_partitions.py), so the check is answered from there instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from faust.tables.base import Collection as FaustCollection
from faust.transport.consumer import Consumer

_PATCHED = "_switchboard_generation_checked"
_REREAD = "_switchboard_rereads_paused"

Seek = Callable[[Any, int], Awaitable[None]]


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

    FaustCollection._verify_source_topic_partitions = verified  # type: ignore[method-assign]


async def keep_for_later(
    records: MutableMapping[Any, list[Any]],
    readable: Collection[Any],
    assigned: Collection[Any],
    seek: Seek,
) -> None:
    """Take out the records of partitions that may not be read now, and move each such
    partition (still ours) back to its first record, so those records are fetched again."""
    for tp in [tp for tp in records if tp not in readable]:
        dropped = records.pop(tp)
        if dropped and tp in assigned:
            await seek(tp, dropped[0].offset)


def reread_paused_records() -> None:
    """See "Records fetched for a paused partition" in the module docstring."""
    if getattr(Consumer, _REREAD, False):
        return
    original = Consumer._wait_next_records

    async def _wait_next_records(self: Any, timeout: float) -> Any:  # noqa: ASYNC109 - Faust's signature
        records, active = await original(self, timeout)
        if not records or active is None:
            return records, active
        buffered = self._buffered_partitions
        # Every fetch passes here: copy and filter only when something must be kept back.
        if any(tp not in active and tp not in buffered for tp in records):
            records = dict(records)
            await keep_for_later(records, active | buffered, self.assignment(), self.seek)
        return records, active

    Consumer._wait_next_records = _wait_next_records  # type: ignore[method-assign]
    setattr(Consumer, _REREAD, True)
