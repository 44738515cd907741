"""Corrections to faust-streaming 0.15.3, applied where the app is created.

Stale acknowledgements. Around a rebalance, Faust skips records that were fetched under the
previous consumer generation, and acknowledges them as it skips them (streams.py: ``do_ack or
value is skipped_value``). Those offsets then count as processed, the next commit moves past them,
and the records are never handled: a SIGKILLed worker that rejoins its group lost a few
messages per partition this way. It skips and acknowledges records the same way while a
rebalance is under way (flow control suspended, the generation not yet changed), after it
has already forgotten the partition's acknowledgements. Refusing acknowledgements from an
older generation, and any while flow control is suspended, keeps the commit behind them;
after the rebalance Faust seeks to the committed offset and fetches them again, and our
idempotent agents absorb any repeat. Upstream: faust-streaming #527 (robinhood/faust #604),
manual acknowledgements skipped around a rebalance; the skipping came with #223.

Records fetched for a paused partition. Faust's getmany yields only records of active
partitions and drops the rest: records fetched just before a partition was paused (its
tables recovering after a rebalance) are gone, while the fetch position has moved past
them. When the partition resumes, the next record's offset jumps, Faust takes the jump for
a compaction gap and counts the skipped offsets as processed, so the commit moves past
records nobody handled (bench.recovery saw one message of a partition lost after a
restart). Dropped records now move the partition's fetch position back to the first of
them, so they are fetched again once it resumes. Upstream: faust-streaming #216.

Records read during a rebalance. Between the moment a rebalance suspends the streams and
the moment they resume, Faust keeps fetching (its tables' changelogs), and the records of
stream partitions it fetches are skipped by every stream, yet its read position moves past
them. The seek to the committed offsets that ends the rebalance fetches them again, and
Faust drops those as already read: with the fixes below nothing is lost, but each rebalance
left a few records per partition to the commit watch, seconds late. Stream records are now
held back while the streams are suspended (the changelogs still flow), and also until the
rebalance's seek to the committed offsets is done: Faust resumes the stream partitions, and
delivers what they fetch, a moment before that seek, from wherever each partition happened
to be. Each partition whose records are held back goes back to the first of them (or its
committed offset, if lower), so its position moves only over records that reach a stream.
Upstream: faust-streaming #216 and #221 (events fetched before a rebalance, delivered after).

Records fetched before a seek. A seek moves a partition's fetch position, but Faust goes on
delivering the rest of a batch it fetched before, and its read position runs past where the
partition now is: the records fetched again from there are then dropped as already read
(Faust's "DROPPED MESSAGE"), and, once handled later, answered out of order. Every seek
(Faust's own after a rebalance, ours) is now counted per partition; records of a partition
moved since they were fetched are not delivered, and the read position a batch left behind
is forgotten before the next fetch. (A seek issued while a fetch is on its way: the client
discards what it fetched for the old position.) Upstream: robinhood/faust #115 ("DROPPED
MESSAGE" after a rebalance).

Offsets taken for empty. When the offsets Faust delivers jump, it records the offsets
skipped as holding no record (a compacted topic), and commits past them. But a jump also
happens around every seek: records of a batch fetched before the seek are still delivered
after it, Faust's read position runs ahead, and the records fetched again from the seek's
target are dropped as already read, while the jump counts them as empty. A worker taking
over a dead one's partitions committed past 22 records nobody handled this way
(bench.recovery; Faust's "DROPPED MESSAGE" debug lines showed them). The topics our
agents read are neither compacted nor written in transactions, so their offsets have no
holes: the jump is no longer taken for one. What the drop leaves unhandled holds the commit,
and the commit watch below reads it again; an offset that truly holds no record (a range
retention removed) the watch finds and moves past. Upstream: faust-streaming #606, where
#378 changed how gaps are read.

An unhandled head. Faust commits up to the first gap in what its agents acknowledged, but
when the gap is a single record at the committed offset it commits past it anyway (its
``_new_offset`` compares against the committed offset as if it were the last record
handled, while Kafka's is the next one to read): a record dropped around a rebalance was
lost this way. Such a commit is now held until the record is handled; ``watch_commits``
reads the partition again from a held head, or moves past offsets that prove empty
(streams/runtime/commit_watch.py). The same watch ends the opposite failure, a head dropped with
several records after it, which held the commit, and so the group's lag, for good (a
broker outage in tests/faults/test_no_loss.py left 80 records uncommitted). The watch needs
what ``reread_paused_records`` notes of each fetch. Upstream: faust-streaming #606 (fix
proposed in #707, not in 0.15.3). The ordered agents' keyed lanes (streams/runtime/) also
acknowledge only in offset order, so they never present Faust with such a head.

Table co-partitioning check. Before a table write Faust compares the partition counts of
the source topic and the changelog from its consumer's cluster metadata. Right after Faust
creates a changelog, that metadata can list fewer of its partitions, and it is refreshed
only every few minutes: meanwhile every write raises ``PartitionsMismatch`` and the agent
(and every agent sharing its consumer) stalls. Our tables are co-partitioned by
construction, each created with its source topic's partition count from the catalogue
(tests/unit/test_table_partitions.py), so the check is answered from there instead.
Upstream: no issue found for the stale metadata; robinhood/faust #325 reports the same error.
"""

from __future__ import annotations

import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Mapping,
    MutableMapping,
    Sequence,
)
from typing import Any

import structlog
from faust.tables.base import Collection as FaustCollection
from faust.transport.consumer import Consumer

from streams.runtime.commit_watch import CommitAction, Head, Held, judge

log = structlog.get_logger(__name__)

_PATCHED = "_switchboard_generation_checked"
_REREAD = "_switchboard_rereads_paused"
_HOLD = "_switchboard_holds_unhandled_heads"
_READS = "_switchboard_reads"
_HELD_BACK = "_switchboard_holds_back_during_rebalance"
_SEEKS = "_switchboard_seeks"
_MARKS = "_switchboard_fetch_marks"
_FORGOTTEN = "_switchboard_read_positions_forgotten"
_SOUGHT = "_switchboard_sought_in_generation"

Seek = Callable[[Any, int], Awaitable[None]]


def refuse_stale_acks() -> None:
    if getattr(Consumer, _PATCHED, False):
        return
    original = Consumer.ack

    def ack(self: Any, message: Any) -> bool:
        current = self.app.consumer_generation_id
        if getattr(message, "generation_id", current) != current:
            return False
        if not self.app.flow_control.is_active():
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
        note_reads(self, records)
        seeks = _seeks(self)
        self.__dict__[_MARKS] = {tp: seeks.get(tp, 0) for tp in records}
        return records, active

    Consumer._wait_next_records = _wait_next_records  # type: ignore[method-assign]
    setattr(Consumer, _REREAD, True)


def _head_is_missing(self: Any, tp: Any) -> bool:
    """True when records after the committed offset are acknowledged but the record at it is
    not, and the commit watch has not found its offset empty."""
    committed = self._committed_offset[tp]
    acked = self._acked[tp]
    if committed is None or not acked or min(acked) <= committed:
        return False
    return not self._gap[tp].at(committed)


def _seeks(consumer: Any) -> dict[Any, int]:
    """How many times each partition was moved (sought) since the consumer started."""
    seeks: dict[Any, int] = consumer.__dict__.setdefault(_SEEKS, {})
    return seeks


def moved(seeks: dict[Any, int], tps: Collection[Any]) -> None:
    for tp in tps:
        seeks[tp] = seeks.get(tp, 0) + 1


async def held_back(
    messages: AsyncIterator[tuple[Any, Any]],
    *,
    stale: Callable[[Any], bool],
    streaming: Callable[[], bool],
    is_changelog: Callable[[Any], bool],
    committed: Mapping[Any, int | None],
    assigned: Collection[Any],
    seek: Seek,
) -> AsyncIterator[tuple[Any, Any]]:
    """Pass on what may be delivered now: nothing of a partition moved since its records
    were fetched (they are fetched again from where it was moved to), changelog records
    always, stream records only while the streams run. A partition whose records are held
    back goes back to the first of them, or to its committed offset once known and lower.
    (Not to be left for the rebalance's own seek: Faust resumes the stream partitions and
    delivers what they fetch before that seek, so a position moved past held-back records
    would have later records handled first, and the held-back ones only after the seek.)"""
    sent_back: set[Any] = set()
    async for tp, message in messages:
        if stale(tp):
            continue
        if streaming() or is_changelog(tp):
            yield tp, message
        elif tp not in sent_back:
            sent_back.add(tp)
            offset = committed.get(tp)
            if tp in assigned:
                await seek(tp, message.offset if offset is None else min(offset, message.offset))


def streams_run(consumer: Any) -> bool:
    """True while the streams run: flow control is on, and this generation's seek to the
    committed offsets is done (see "Records read during a rebalance")."""
    sought = consumer.__dict__.get(_SOUGHT)
    return bool(
        consumer.app.flow_control.is_active() and sought == consumer.app.consumer_generation_id
    )


def hold_back_during_rebalance() -> None:
    """See "Records read during a rebalance" and "Records fetched before a seek" in the
    module docstring."""
    if getattr(Consumer, _HELD_BACK, False):
        return
    original_getmany = Consumer.getmany
    original_seek = Consumer.seek
    original_perform_seek = Consumer.perform_seek

    # Stream partitions only: a changelog's records are never fetched again by these seeks.
    async def seek(self: Any, partition: Any, offset: int) -> None:
        if not self._is_changelog_tp(partition):
            moved(_seeks(self), [partition])
        await original_seek(self, partition, offset)

    async def perform_seek(self: Any) -> None:
        generation = self.app.consumer_generation_id
        streams = [tp for tp in self.assignment() if not self._is_changelog_tp(tp)]
        moved(_seeks(self), streams)
        await original_perform_seek(self)
        self.__dict__[_SOUGHT] = generation

    async def getmany(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:  # noqa: ASYNC109
        seeks = _seeks(self)
        forgotten: dict[Any, int] = self.__dict__.setdefault(_FORGOTTEN, {})
        for tp, count in list(seeks.items()):
            if forgotten.get(tp) != count:
                # The last batch has been delivered: forget a read position it may have
                # set past the partition's new place, or what is fetched from there is
                # dropped as already read.
                forgotten[tp] = count
                self._read_offset[tp] = None

        def stale(tp: Any) -> bool:
            return bool(seeks.get(tp, 0) != self.__dict__.get(_MARKS, {}).get(tp, 0))

        async for item in held_back(
            original_getmany(self, timeout),
            stale=stale,
            streaming=lambda: streams_run(self),
            is_changelog=self._is_changelog_tp,
            committed=self._committed_offset,
            assigned=self.assignment(),
            seek=self.seek,
        ):
            yield item

    Consumer.getmany = getmany  # type: ignore[method-assign]
    Consumer.seek = seek  # type: ignore[method-assign]
    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    setattr(Consumer, _HELD_BACK, True)


def ignore_delivery_gaps() -> None:
    """See "Offsets taken for empty" in the module docstring."""

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        return None

    Consumer._add_gap = _add_gap  # type: ignore[method-assign]


def hold_unhandled_heads() -> None:
    """See "An unhandled head" in the module docstring."""
    if getattr(Consumer, _HOLD, False):
        return
    original = Consumer._new_offset

    def _new_offset(self: Any, tp: Any) -> int | None:
        if _head_is_missing(self, tp):
            return None
        return original(self, tp)

    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    setattr(Consumer, _HOLD, True)


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The partition's committed offset as the consumer last knew it (None: not yet known,
    or the group never committed there)."""
    committed = consumer._committed_offset.get(tp)
    return int(committed) if committed is not None else None


def note_reads(consumer: Any, records: Mapping[Any, Sequence[Any]]) -> None:
    """Remember the lowest and highest offset fetched per partition since it was last read
    again from its head (records come in offset order)."""
    reads: dict[Any, tuple[int, int]] = consumer.__dict__.setdefault(_READS, {})
    for tp, fetched in records.items():
        if fetched:
            low, high = reads.get(tp, (fetched[0].offset, fetched[-1].offset))
            reads[tp] = (min(low, fetched[0].offset), max(high, fetched[-1].offset))


def head_of(consumer: Any, tp: Any, generation: int) -> Head | None:
    """The commit position of one partition, or None while nothing holds it back."""
    committed = consumer._committed_offset[tp]
    acked = consumer._acked.get(tp)
    if committed is None or not acked:
        return None
    lowest = min(acked)
    low, high = consumer.__dict__.get(_READS, {}).get(tp, (None, None))
    return Head(
        committed=committed,
        lowest_acked=lowest,
        in_flight=any(
            m.tp == tp
            and committed <= m.offset < lowest
            and not m.acked
            and m.generation_id == generation
            for m in list(consumer._unacked_messages)
        ),
        head_read=low is not None and low <= committed <= high,
        read_past=high is not None and high > committed,
    )


REPAIRS = {
    CommitAction.REREAD: "commit_held_reading_again",
    CommitAction.SKIP: "commit_moved_past_empty_offsets",
}


async def repair(consumer: Any, tp: Any, head: Head, verdict: CommitAction) -> None:
    """Read the partition again from its held head, or mark the offsets up to the lowest
    acknowledged one empty; say so in the log either way."""
    log.warning(
        REPAIRS[verdict],
        topic=tp.topic,
        partition=tp.partition,
        committed=head.committed,
        lowest_acked=head.lowest_acked,
    )
    if verdict is CommitAction.REREAD:
        consumer.__dict__.get(_READS, {}).pop(tp, None)
        await consumer.seek(tp, head.committed)
    else:
        consumer._gap[tp].addi(head.committed, head.lowest_acked)


def watch_commits(
    app: Any, interval: float, patience: float, repaired: Callable[[str, CommitAction], None]
) -> None:
    """Every ``interval`` seconds, judge each partition's head (streams/runtime/commit_watch.py) and
    read again, or move past, what holds a commit back."""
    held: dict[Any, Held] = {}
    generation = [app.consumer_generation_id]

    async def watch() -> None:
        consumer = app.consumer
        if generation[0] != app.consumer_generation_id:
            generation[0] = app.consumer_generation_id
            held.clear()  # a rebalance reads every partition again from its commit anyway
        if not consumer.flow_active or consumer._commit_fut is not None:
            # A commit under way has taken its records out of the acknowledged ones and
            # not yet moved the committed offset: every head would look held.
            return
        active = consumer._get_active_partitions()
        for tp in list(consumer.assignment()):
            head = head_of(consumer, tp, generation[0]) if tp in active else None
            if head is None:
                held.pop(tp, None)
                continue
            memory, verdict = judge(head, held.get(tp), time.monotonic(), patience)
            if memory is None:
                held.pop(tp, None)
            else:
                held[tp] = memory
            if verdict in REPAIRS:
                await repair(consumer, tp, head, verdict)
                repaired(tp.topic, verdict)

    app.timer(interval, name="commit-watch")(watch)
